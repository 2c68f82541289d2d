import ArgumentParser
import Foundation
@_spi(Internals) import CharNN

/// `charnn doctor`: what charnn found on this machine, for bug reports and performance questions.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show the math backends charnn chose on this machine.",
        discussion: """
            Prints the OpenBLAS kernel family and thread count, and the SIMD variant of charnn's own \
            kernels. charnn picks the fastest kernels this CPU runs by itself; a value of \
            OPENBLAS_CORETYPE or OPENBLAS_NUM_THREADS that you set is honoured, and CHARNN_SIMD=baseline, \
            avx2 or avx512 forces charnn's variant (if this CPU runs it).
            """
    )

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try reportingErrors { try report() }
    }

    private func report() throws {
        let core = OpenBLASRuntime.coreName, threads = OpenBLASRuntime.threads, simd = Activations.variant
        let timeout = ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "default"
        let packed = PackedGEMM.isSupported
        // How the variant was chosen: "cpu" (the widest this CPU runs) or "CHARNN_SIMD"; a
        // request that could not be honoured is the CHARNN_SIMD value, beside a "cpu" choice.
        let request = Activations.request
        var forced = false, requested: String? = nil
        switch request {
        case .none: break
        case .forced(let name): forced = true; requested = name
        case .unsupported(let name), .unknown(let name): requested = name
        }
        if json {
            struct Report: Encodable {
                var charnn: String, openblasCore: String, openblasThreads: Int, openblasThreadTimeout: String
                var simdKernels: String, simdForced: Bool, simdRequested: String?, packedRecurrentGemm: Bool
            }
            try JSONOutput.print(Report(charnn: charnnVersion, openblasCore: core, openblasThreads: threads,
                                        openblasThreadTimeout: timeout, simdKernels: simd, simdForced: forced,
                                        simdRequested: requested, packedRecurrentGemm: packed))
        } else {
            print("charnn \(charnnVersion)")
            print("OpenBLAS kernels: \(core), \(threads) thread\(threads == 1 ? "" : "s")")
            print("OpenBLAS thread timeout: \(timeout) (workers sleep after 2^n cycles)")
            switch request {
            case .none: print("element-wise kernels: \(simd) (the widest this CPU runs)")
            case .forced: print("element-wise kernels: \(simd) (forced by CHARNN_SIMD)")
            case .unsupported(let name), .unknown(let name):
                print("element-wise kernels: \(simd) (the widest this CPU runs; CHARNN_SIMD=\(name) ignored)")
            }
            print("packed recurrent GEMM and bf16 panels: \(packed ? "yes (\(simd))" : "no, OpenBLAS and fp32 are used")")
        }
    }
}

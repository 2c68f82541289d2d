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
            element-wise kernels. charnn picks the fastest kernels this CPU runs by itself; a value of \
            OPENBLAS_CORETYPE or OPENBLAS_NUM_THREADS that you set is honoured.
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
        if json {
            struct Report: Encodable {
                var charnn: String, openblasCore: String, openblasThreads: Int, openblasThreadTimeout: String
                var simdKernels: String, packedRecurrentGemm: Bool
            }
            try JSONOutput.print(Report(charnn: charnnVersion, openblasCore: core, openblasThreads: threads,
                                        openblasThreadTimeout: timeout, simdKernels: simd, packedRecurrentGemm: packed))
        } else {
            print("charnn \(charnnVersion)")
            print("OpenBLAS kernels: \(core), \(threads) thread\(threads == 1 ? "" : "s")")
            print("OpenBLAS thread timeout: \(timeout) (workers sleep after 2^n cycles)")
            print("element-wise kernels: \(simd)")
            print("packed recurrent GEMM: \(packed ? "yes (AVX-512)" : "no, OpenBLAS is used")")
        }
    }
}

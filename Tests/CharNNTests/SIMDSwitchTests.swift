import CKernels
@_spi(Internals) import CharNN
import Foundation
import Testing

/// CHARNN_SIMD, read once before main: a variant the CPU runs is used for every ISA-specific path
/// and `charnn doctor` says it was forced; anything else leaves the widest variant in use and the
/// CLI prints one warning line (the C kernels never print).
@Suite("CHARNN_SIMD forces a kernel variant")
struct SIMDSwitchTests {
    /// The widest variant of this CPU, whatever CHARNN_SIMD the test process itself runs under.
    static let cpuWidest: String = ["baseline", "avx512", "avx2"][Int(ck_cpu_simd_level())]

    struct Doctor: Decodable {
        var simdKernels: String, simdForced: Bool, simdRequested: String?, packedRecurrentGemm: Bool
    }

    static func doctor(_ value: String) throws -> (report: Doctor, stderr: String) {
        let result = try CharNNBinary.run(["doctor", "--json"], environment: ["CHARNN_SIMD": value])
        try #require(result.status == 0, "CHARNN_SIMD=\(value): \(result.stderr)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return (try decoder.decode(Doctor.self, from: Data(result.stdout.utf8)), result.stderr)
    }

    /// The variants with a packed recurrent kernel that beats OpenBLAS (docs/simd.md).
    static func hasPackedKernel(_ variant: String) -> Bool { variant == "avx512" || variant == "avx2" }

    @Test("a variant the CPU runs is used, reported as forced, and turns off the packed kernels at baseline")
    func forced() throws {
        let variants = ["baseline", "avx2", "avx512"]
        let runnable = variants.prefix(through: variants.firstIndex(of: Self.cpuWidest)!)
        for variant in runnable {
            let (report, stderr) = try Self.doctor(variant)
            #expect(stderr.isEmpty, "\(variant): \(stderr)")
            #expect(report.simdKernels == variant && report.simdForced && report.simdRequested == variant)
            #expect(report.packedRecurrentGemm == Self.hasPackedKernel(variant), "\(variant)")
        }
        let (unset, stderr) = try Self.doctor("")
        #expect(stderr.isEmpty && unset.simdKernels == Self.cpuWidest && !unset.simdForced && unset.simdRequested == nil)
    }

    @Test("an unknown value, or a variant this CPU cannot run, gives one warning line and the widest variant")
    func refused() throws {
        var refused = ["sse9", "AVX2"]
        if Self.cpuWidest != "avx512" { refused.append("avx512") }
        if Self.cpuWidest == "baseline" { refused.append("avx2") }
        for value in refused {
            let (report, stderr) = try Self.doctor(value)
            let lines = stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("charnn: warning: CHARNN_SIMD=\(value)")
                    && lines[0].hasSuffix("using \(Self.cpuWidest)"), "\(value): \(stderr)")
            #expect(report.simdKernels == Self.cpuWidest && !report.simdForced && report.simdRequested == value)
        }
    }

    @Test("in this process, the variants on offer are those no wider than CHARNN_SIMD's")
    func testProcessFollowsTheSwitch() throws {
        let offered = Activations.availableVariants
        #expect(offered.first == String(cString: ck_variant_name()))
        #expect(offered.last == "baseline")
        if case .forced(let name) = Activations.request {
            #expect(offered.first == name)
            #expect(PackedGEMM.isSupported == Self.hasPackedKernel(name))
        } else {
            #expect(offered.first == Self.cpuWidest)
        }
        for wider in ["avx512", "avx2"] where !offered.contains(wider) {
            #expect(Activations.withVariant(wider) { true } == nil, "\(wider) should be refused")
        }
    }
}

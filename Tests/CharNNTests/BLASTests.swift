@_spi(Internals) import CharNN
import Testing

/// The GEMM and GEMV wrappers against a naive triple loop, in every transpose combination and at
/// the awkward shapes (a single row, a single column) that the LSTM uses.
@Suite("BLAS wrappers")
struct BLASTests {
    static func random(_ count: Int, _ rng: inout RandomGenerator) -> [Float] {
        (0..<count).map { _ in rng.nextUnitFloat() * 2 - 1 }
    }

    @Test("gemm matches a naive product", arguments: [(5, 7, 3), (1, 16, 8), (9, 1, 4), (12, 10, 1)])
    func gemm(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = RandomGenerator(seed: UInt64(m * 100 + n * 10 + k))
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = Self.random(m * k, &rng), b = Self.random(k * n, &rng), c0 = Self.random(m * n, &rng)
                var c = c0
                BLAS.gemm(m: m, n: n, k: k, a, transposeA: transposeA, b, transposeB: transposeB, into: &c, alpha: 0.5, beta: 2)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum: Float = 0
                        for p in 0..<k {
                            sum += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j])
                        }
                        let expected = 0.5 * sum + 2 * c0[i * n + j]
                        #expect(abs(c[i * n + j] - expected) < 1e-5, "m\(m) n\(n) k\(k) tA \(transposeA) tB \(transposeB)")
                    }
                }
            }
        }
    }

    @Test("gemv matches a naive product, plain and transposed")
    func gemv() {
        var rng = RandomGenerator(seed: 3)
        let rows = 6, cols = 4
        let a = Self.random(rows * cols, &rng), x = Self.random(cols, &rng), xt = Self.random(rows, &rng)
        var y = [Float](repeating: 1, count: rows), yt = [Float](repeating: 1, count: cols)
        BLAS.gemv(rows: rows, cols: cols, a, x, into: &y, beta: 1)
        BLAS.gemv(rows: rows, cols: cols, a, transpose: true, xt, into: &yt)
        for i in 0..<rows {
            let expected = 1 + (0..<cols).reduce(Float(0)) { $0 + a[i * cols + $1] * x[$1] }
            #expect(abs(y[i] - expected) < 1e-5)
        }
        for j in 0..<cols {
            let expected = (0..<rows).reduce(Float(0)) { $0 + a[$1 * cols + j] * xt[$1] }
            #expect(abs(yt[j] - expected) < 1e-5)
        }
    }
}

@Suite("Packed recurrent GEMM")
struct PackedGEMMTests {
    /// Small awkward shapes, and shapes that reach every loop of the AVX2 and AVX-512 kernels: m = 1
    /// (the batch-1 kernel, odd k), m = 25 and 64 (AVX-512 row blocks of 5, and of 6 and 5: training's
    /// half-batch; AVX2 blocks of 3 and 2), m = 2 and 7 (one AVX2 block of 2; 3, 2, 2), n = 268 (a
    /// partial last panel of 12 columns: one full and one masked group of 8, two empty), n = 67 (3
    /// columns into the third panel) with k = 268.
    @Test("matches BLAS for W·x and Wᵀ·x packings, at awkward shapes, on 1 and 2 threads, in every variant",
          arguments: [(1, 4, 3), (1, 100, 131), (7, 40, 5), (50, 96, 24), (13, 33, 65),
                      (1, 268, 1025), (25, 268, 67), (64, 67, 268), (2, 520, 64)])
    func matchesBLAS(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        var rng = RandomGenerator(seed: UInt64(m * 1000 + n * 10 + k))
        let a = BLASTests.random(m * k, &rng)
        // B given as its transpose W [n, k] (the forward case) and as itself [k, n] (the backward case).
        let w = BLASTests.random(n * k, &rng)
        for (transposed, rowStride, columnStride) in [(true, 1, k), (false, n, 1)] {
            var packed = [Float](repeating: .nan, count: PackedGEMM.packedCount(k: k, n: n))
            PackedGEMM.pack(w, k: k, n: n, rowStride: rowStride, columnStride: columnStride, into: &packed)
            let c0 = BLASTests.random(m * n, &rng)
            var expected = c0
            BLAS.gemm(m: m, n: n, k: k, a, w, transposeB: transposed, into: &expected, beta: 1)
            for variant in Activations.availableVariants {
                try inVariant(variant) {
                    for threads in [1, 2] {
                        var actual = c0
                        PackedGEMM.multiplyAdd(m: m, n: n, k: k, a, packed: packed, into: &actual, threads: threads)
                        let worst = zip(expected, actual).map { abs($0 - $1) }.max() ?? 0
                        #expect(worst < 1e-4 * Float(max(1, k / 64)),
                                "\(variant) m\(m) n\(n) k\(k) transposed \(transposed) threads \(threads): \(worst)")
                    }
                }
            }
        }
    }
}

extension PackedGEMMTests {
    @Test("concurrent callers share the second thread safely and get the same results",
          .timeLimit(.minutes(3)))
    func concurrentCallers() async throws {
        let m = 9, n = 64, k = 20
        var rng = RandomGenerator(seed: 5)
        let a = BLASTests.random(m * k, &rng), w = BLASTests.random(n * k, &rng)
        var packed = [Float](repeating: 0, count: PackedGEMM.packedCount(k: k, n: n))
        PackedGEMM.pack(w, k: k, n: n, rowStride: 1, columnStride: k, into: &packed)
        var expected = [Float](repeating: 0, count: m * n)
        PackedGEMM.multiplyAdd(m: m, n: n, k: k, a, packed: packed, into: &expected, threads: 1)
        let shared = packed, want = expected
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var ok = true
                    for _ in 0..<200 {
                        var c = [Float](repeating: 0, count: m * n)
                        PackedGEMM.multiplyAdd(m: m, n: n, k: k, a, packed: shared, into: &c, threads: 2)
                        ok = ok && c == want
                    }
                    return ok
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 8 && results.allSatisfy { $0 })
    }
}

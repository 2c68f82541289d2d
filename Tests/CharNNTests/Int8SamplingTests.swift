import CKernels
import Foundation
@_spi(Internals) import CharNN
import Testing

/// int8 sampling (int8_gemv.c, Int8StepWeights, `--precision int8`): the quantization, the
/// product in every kernel variant this CPU runs against a Double loop over the same integers, the
/// whole int8 step against a plain re-implementation, and the stepped scorer.
@Suite("int8 sampling")
struct Int8SamplingTests {
    /// (k, n): one element; tails in both directions; k not a multiple of 4 with 3 panels + 4
    /// columns; and a 2×512 layer (k = 512, n = 2048), which reaches every main loop.
    static let shapes = [(1, 1), (3, 5), (64, 65), (131, 100), (512, 2048)]

    @Test("a row's int8 round trip is within half its scale of every weight, and the largest weight is exact")
    func roundTrip() {
        var rng = RandomGenerator(seed: 11)
        let rows = 37, cols = 131
        var w = BLASTests.random(rows * cols, &rng).enumerated().map { $0.element * Float(1 + $0.offset / cols) }
        for i in 0..<cols { w[5 * cols + i] = 0 }  // an all-zero row stays zero
        var rounded = w
        ck_round_rows_i8(&rounded, rows, cols)
        for r in 0..<rows {
            let row = w[(r * cols)..<((r + 1) * cols)], largest = row.map(abs).max()!
            let scale = largest / 127
            for i in 0..<cols {
                let error = abs(rounded[r * cols + i] - w[r * cols + i])
                #expect(error <= scale / 2 * (1 + 1e-5), "row \(r) column \(i): \(error) > \(scale / 2)")
            }
            let at = row.firstIndex { abs($0) == largest }!
            #expect(abs(rounded[at] - w[at]) <= largest * 1e-6, "row \(r): the largest weight should round to ±127 · scale")
        }
        #expect(rounded[(5 * cols)..<(6 * cols)].allSatisfy { $0 == 0 })
        // The activations round the same way, one scale per vector.
        let x = BLASTests.random(99, &rng)
        var q = [Int8](repeating: 0, count: 99)
        let scale = ck_quantize_i8(x, 99, &q)
        #expect(scale == x.map(abs).max()! / 127)
        for i in 0..<99 { #expect(abs(Float(q[i]) * scale - x[i]) <= scale / 2 * (1 + 1e-5)) }
        #expect(ck_quantize_i8([0, 0, 0], 3, &q) == 0 && q[0...2] == [0, 0, 0])
    }

    @Test("the int8 product equals a Double loop over the quantized values, in every variant, bit for bit across variants and threads",
          arguments: shapes)
    func productMatchesReference(shape: (Int, Int)) throws {
        let (k, n) = shape
        var rng = RandomGenerator(seed: UInt64(k * 131 + n))
        // Two operands, as one fused layer: W_ih [n, k] with input x1, and W_hh [n, k + 3] with x2.
        let k2 = k + 3
        let w1 = BLASTests.random(n * k, &rng), w2 = BLASTests.random(n * k2, &rng).map { $0 * 0.25 }
        let x1 = BLASTests.random(k, &rng), x2 = BLASTests.random(k2, &rng).map { $0 * 3 }
        let y0 = BLASTests.random(n, &rng)
        func pack(_ w: [Float], _ k: Int) -> (packed: [Int8], scales: [Float]) {
            var packed = [Int8](repeating: 0x55, count: ck_packed_i8_count(k, n))  // padding must be overwritten
            var scales = [Float](repeating: .nan, count: (n + 31) / 32 * 32)
            ck_pack_b_i8(w, k, n, 1, k, &packed, &scales)
            return (packed, scales)
        }
        let (p1, s1) = pack(w1, k), (p2, s2) = pack(w2, k2)
        for j in 0..<n {
            #expect(s1[j] == w1[(j * k)..<((j + 1) * k)].map(abs).max()! / 127, "the scale of row \(j)")
        }
        #expect(s1[n...].allSatisfy { $0 == 0 }, "panel padding scales are zero")
        var q1 = [Int8](repeating: 0, count: (k + 3) / 4 * 4), q2 = [Int8](repeating: 0, count: (k2 + 3) / 4 * 4)
        let sx1 = ck_quantize_i8(x1, k, &q1), sx2 = ck_quantize_i8(x2, k2, &q2)
        // Reference: the integer sums, exact in Double, scaled as the kernel scales them.
        var d1 = w1, d2 = w2
        ck_round_rows_i8(&d1, n, k)
        ck_round_rows_i8(&d2, n, k2)
        var expected = y0
        for j in 0..<n {
            var sum: Double = 0
            for i in 0..<k { sum += Double(q1[i]) * Double(sx1) * Double(d1[j * k + i]) }
            for i in 0..<k2 { sum += Double(q2[i]) * Double(sx2) * Double(d2[j * k2 + i]) }
            expected[j] += Float(sum)
        }
        var first: [Float]?
        for variant in Activations.availableVariants {
            for threads: Int32 in [1, 2] {
                let y = try #require(Activations.withVariant(variant) { () -> [Float] in
                    var y = y0
                    q1.withUnsafeBufferPointer { q1 in
                        q2.withUnsafeBufferPointer { q2 in
                            p1.withUnsafeBufferPointer { p1 in
                                p2.withUnsafeBufferPointer { p2 in
                                    s1.withUnsafeBufferPointer { s1 in
                                        s2.withUnsafeBufferPointer { s2 in
                                            var operands = [
                                                ck_i8_operand(x: q1.baseAddress, x_scale: sx1, k: k, packed: p1.baseAddress, scales: s1.baseAddress),
                                                ck_i8_operand(x: q2.baseAddress, x_scale: sx2, k: k2, packed: p2.baseAddress, scales: s2.baseAddress),
                                            ]
                                            ck_packed_gemv_i8(&operands, 2, &y, n, threads)
                                        }
                                    }
                                }
                            }
                        }
                    }
                    return y
                })
                for j in 0..<n {
                    let bound = 1e-5 * (abs(expected[j]) + Float(k + k2).squareRoot())
                    #expect(abs(y[j] - expected[j]) <= bound, "\(variant), \(threads) thread(s), k\(k) n\(n), column \(j): \(y[j]) vs \(expected[j])")
                }
                if let first { #expect(y == first, "\(variant), \(threads) thread(s): not the same bits as \(Activations.availableVariants[0])") }
                first = first ?? y
            }
        }
    }

    @Test("the int8 kernel follows the forced variant")
    func kernelFollowsVariant() {
        #expect(Activations.withVariant("baseline") { String(cString: ck_i8_kernel_name()) } == "portable")
        if Activations.availableVariants.contains("avx2") {
            let name = Activations.withVariant("avx2") { String(cString: ck_i8_kernel_name()) }
            #expect(name == "avx2" || name == "avx-vnni")
        }
        if Activations.availableVariants.contains("avx512") {
            let name = Activations.withVariant("avx512") { String(cString: ck_i8_kernel_name()) }
            #expect(name == "avx512" || name == "avx512-vnni")
        }
    }

    @Test("the default precision is bfloat16 with AVX-512, int8 with AVX2, float32 with the portable kernels")
    func defaultPerCPU() {
        let expected: [Int32: SamplingPrecision] = [1: .bfloat16, 2: .int8, 0: .float32]
        #expect(SamplingPrecision.samplingDefault == expected[ck_simd_level()])
    }

    @Test("int8 rounds each row of exactly the matrices a step multiplies through, and keeps the rest")
    func roundedTensors() throws {
        let model = SamplingTests.trained.model
        let rounded = SamplingPrecision.int8.applied(to: model)
        for t in model.parameters.layout.tensors {
            let before = try #require(model.parameters.tensor(t.name)), after = try #require(rounded.parameters.tensor(t.name))
            if t.name == "head.weight" || t.name.contains("weight_ih") || t.name.contains("weight_hh") {
                var expected = before
                ck_round_rows_i8(&expected, t.shape[0], t.shape[1])
                #expect(after == expected && after != before, "\(t.name)")
            } else {
                #expect(after == before, "\(t.name)")
            }
        }
    }

    /// The int8 step written out plainly: the rounded weights of applied(to:), each vector a
    /// product reads rounded by ck_quantize_i8, Double sums, the cell in Double.
    static func referenceLogits(_ model: CharModel, tokens: [Int32]) -> [[Float]] {
        let c = model.config, H = c.hiddenSize, V = c.vocabularySize, E = c.embeddingSize
        let p = SamplingPrecision.int8.applied(to: model).parameters
        func tensor(_ name: String) -> [Float] { p.tensor(name)! }
        func rounded(_ x: [Double]) -> [Double] {
            let f = x.map { Float($0) }
            var q = [Int8](repeating: 0, count: f.count)
            let s = ck_quantize_i8(f, f.count, &q)
            return q.map { Double($0) * Double(s) }
        }
        func times(_ w: [Float], _ x: [Double], rows: Int) -> [Double] {
            (0..<rows).map { r in (0..<x.count).reduce(0.0) { $0 + Double(w[r * x.count + $1]) * x[$1] } }
        }
        func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
        var h = [[Double]](repeating: [Double](repeating: 0, count: H), count: c.layers), cell = h
        var out: [[Float]] = []
        let embedding = tensor("embedding.weight")
        for token in tokens {
            var x = (0..<E).map { Double(embedding[Int(token) * E + $0]) }
            for k in 0..<c.layers {
                let bias = zip(tensor("lstm.bias_ih_l\(k)"), tensor("lstm.bias_hh_l\(k)")).map { Double($0) + Double($1) }
                // Layer 0's input comes from the symbol table (fp32, unrounded); the others' is rounded.
                let input = times(tensor("lstm.weight_ih_l\(k)"), k == 0 ? x : rounded(x), rows: 4 * H)
                let recurrent = times(tensor("lstm.weight_hh_l\(k)"), rounded(h[k]), rows: 4 * H)
                let g = (0..<(4 * H)).map { bias[$0] + input[$0] + recurrent[$0] }
                for j in 0..<H {
                    cell[k][j] = sigmoid(g[H + j]) * cell[k][j] + sigmoid(g[j]) * tanh(g[2 * H + j])
                    h[k][j] = sigmoid(g[3 * H + j]) * tanh(cell[k][j])
                }
                x = h[k]
            }
            let logits = times(tensor("head.weight"), rounded(x), rows: V)
            let headBias = tensor("head.bias")
            out.append((0..<V).map { Float(logits[$0] + Double(headBias[$0])) })
        }
        return out
    }

    @Test("an int8 step computes what the plain int8 reference does, for 1 and 3 streams and 1 and 2 threads")
    func stepMatchesReference() throws {
        let model = SamplingTests.trained.model
        let V = model.config.vocabularySize
        let tokens = (0..<30).map { Int32((7 * $0 + 3) % V) }
        let expected = Self.referenceLogits(model, tokens: tokens)
        let exact = try InferenceStep(model: model, streams: 1)
        var fromExact: Float = 0, worst: Float = 0
        for (streams, threads) in [(1, 1), (1, 2), (3, 1)] {
            let step = try InferenceStep(model: model, streams: streams, precision: .int8)
            step.threads = threads
            for (t, token) in tokens.enumerated() {
                // Every stream reads the same symbol: each must give the one-stream result.
                [Int32](repeating: token, count: streams).withUnsafeBufferPointer { step.step($0) }
                if streams == 1 && threads == 1 { [token].withUnsafeBufferPointer { exact.step($0) } }
                for n in 0..<streams {
                    for v in 0..<V {
                        worst = max(worst, abs(step.logits[n * V + v] - expected[t][v]))
                        if streams == 1 && threads == 1 { fromExact = max(fromExact, abs(step.logits[v] - exact.logits[v])) }
                    }
                }
            }
        }
        #expect(worst < 1e-4, "int8 step vs reference: \(worst)")
        #expect(fromExact > 10 * worst, "rounding to int8 should move the logits more than summation order does")
    }

    @Test("stepped scoring counts what the one-pass reader counts (float32: the same loss), and int8 stays close")
    func steppedScorer() throws {
        let trained = SamplingTests.trained
        let text = "First Citizen:\nBefore we proceed any further, hear me speak.\n"
        let batched = try Scorer(model: trained.model, tokenizer: trained.tokenizer).score(text)
        let stepped = try Scorer.stepping(model: trained.model, tokenizer: trained.tokenizer, precision: .float32, threads: 1)
            .score(text)
        #expect(stepped.symbols == batched.symbols && stepped.unknown == batched.unknown)
        #expect(abs(stepped.natsPerSymbol - batched.natsPerSymbol) < 1e-5, "\(stepped.natsPerSymbol) vs \(batched.natsPerSymbol)")
        let int8 = try Scorer.stepping(model: trained.model, tokenizer: trained.tokenizer, precision: .int8, threads: 1)
        let first = try int8.score(text), again = try int8.score(text)
        #expect(first == again, "each score starts from the zero state")
        #expect(first.natsPerSymbol != batched.natsPerSymbol && abs(first.natsPerSymbol - batched.natsPerSymbol) < 0.05)
    }
}

import CKernels
@_spi(Internals) import CharNN
import Testing

@Suite("bfloat16 sampling weights")
struct SamplingPrecisionTests {
    @Test("fp32 → bf16 rounds to nearest, ties to even, keeps NaN a NaN, and widens back exactly")
    func rounding() {
        func bf16(_ bits: UInt32) -> UInt16 { ck_bf16_from_float(Float(bitPattern: bits)) }
        #expect(bf16(0x3F80_0000) == 0x3F80)  // 1.0 is exact
        #expect(bf16(0x3F80_7FFF) == 0x3F80)  // below half an ulp: down
        #expect(bf16(0x3F80_8001) == 0x3F81)  // above: up
        #expect(bf16(0x3F80_8000) == 0x3F80)  // a tie goes to the even neighbour…
        #expect(bf16(0x3F81_8000) == 0x3F82)  // …up as well as down
        #expect(bf16(0xBF81_8000) == 0xBF82)  // the sign is kept
        #expect(ck_float_from_bf16(bf16(Float.nan.bitPattern)).isNaN)
        #expect(ck_float_from_bf16(0x4049) == Float(bitPattern: 0x4049_0000))
    }

    /// k odd (the unpaired last row) and even; n with partial last panels (65, 100: 4 columns in;
    /// 268: a panel whose last three 8-column quarters are empty) and full ones (2048).
    @Test("the bf16 product equals an fp32 product of the rounded weights, at awkward shapes, on 1 and 2 threads, in every variant",
          arguments: [(1, 1), (3, 5), (64, 65), (131, 100), (67, 268), (576, 2048)])
    func productMatchesRoundedReference(shape: (Int, Int)) throws {
        let (k, n) = shape
        var rng = RandomGenerator(seed: UInt64(k * 7919 + n))
        let x = BLASTests.random(k, &rng), w = BLASTests.random(n * k, &rng)  // W [n, k], as the LSTM stores it
        var packed = [UInt16](repeating: 0xFFFF, count: ck_packed_bf16_count(k, n))
        ck_pack_b_bf16(w, k, n, 1, k, &packed)
        let y0 = BLASTests.random(n, &rng)
        var expected = y0
        for j in 0..<n {
            var sum: Double = 0
            for i in 0..<k { sum += Double(x[i]) * Double(ck_float_from_bf16(ck_bf16_from_float(w[j * k + i]))) }
            expected[j] += Float(sum)
        }
        for variant in Activations.availableVariants {
            try inVariant(variant) {
                for threads: Int32 in [1, 2] {
                    var y = y0
                    ck_packed_gemv_bf16(x, k, packed, &y, n, threads)
                    let worst = zip(expected, y).map { abs($0 - $1) }.max() ?? 0
                    #expect(worst < 1e-4 * Float(max(1, k / 64)), "\(variant) k\(k) n\(n) threads \(threads): \(worst)")
                }
            }
        }
    }

    @Test("bf16 rounds exactly the matrices a step multiplies through, by name, and keeps the rest")
    func roundedTensors() throws {
        let model = SamplingTests.trained.model
        let rounded = SamplingPrecision.bfloat16.applied(to: model)
        // Named here rather than through ParameterRole, so a wrong role table is caught too.
        let roundedNames = model.parameters.layout.tensors.map(\.name).filter {
            $0 == "head.weight" || $0.contains("weight_ih") || $0.contains("weight_hh")
        }
        #expect(roundedNames.count == 2 * model.config.layers + 1, "\(roundedNames)")
        for t in model.parameters.layout.tensors {
            let before = try #require(model.parameters.tensor(t.name)), after = try #require(rounded.parameters.tensor(t.name))
            let expected = roundedNames.contains(t.name) ? before.map { ck_float_from_bf16(ck_bf16_from_float($0)) } : before
            #expect(after == expected, "\(t.name)")
        }
    }

    /// Without a packed kernel (baseline) there is no bf16 kernel: a bf16 sampler multiplies the rounded weights in
    /// fp32 through the same code as the reference, so the comparison would be of one computation
    /// with itself. roundedTensors checks, on every host, what that fallback computes from.
    @Test("a bfloat16 sampler computes what fp32 computes on the rounded model, and differs from unrounded fp32",
          .enabled(if: PackedGEMM.isSupported, "needs AVX2 or AVX-512, the variants with a fast bf16 kernel"))
    func samplerMatchesRoundedModel() throws {
        let model = SamplingTests.trained.model
        let rounded = SamplingPrecision.bfloat16.applied(to: model)
        #expect(rounded.parameters.values != model.parameters.values)
        #expect(rounded.parameters.tensor("embedding.weight") == model.parameters.tensor("embedding.weight"))
        let V = model.config.vocabularySize
        // One stream runs the bf16 kernel; two run fp32 products of the rounded weights.
        for streams in [1, 2] {
            let half = try InferenceStep(model: model, streams: streams, precision: .bfloat16)
            let reference = try InferenceStep(model: rounded, streams: streams)
            let exact = try InferenceStep(model: model, streams: streams)
            var worst: Float = 0, fromExact: Float = 0
            for t in 0..<40 {
                let tokens = (0..<streams).map { Int32((7 * $0 * t + t + 3 * $0) % V) }
                for step in [half, reference, exact] { tokens.withUnsafeBufferPointer { step.step($0) } }
                for v in 0..<(streams * V) {
                    worst = max(worst, abs(half.logits[v] - reference.logits[v]))
                    fromExact = max(fromExact, abs(half.logits[v] - exact.logits[v]))
                }
            }
            #expect(worst < 1e-4, "\(streams) stream(s)")
            #expect(fromExact > worst, "rounding the weights should move the logits more than summation order does")
        }
    }
}

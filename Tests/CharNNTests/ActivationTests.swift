@_spi(Internals) import CharNN
import Foundation
import Testing

/// The element-wise kernels against Double-precision references, in every variant this CPU runs.
@Suite("SIMD activation kernels")
struct ActivationTests {
    /// Inputs spanning the interesting ranges: tiny values (where tanh ≈ x), the switch between
    /// tanh's two formulas at 0.625, saturation, and extremes that must not overflow. 1001 values
    /// so the vector loops also run their scalar tails.
    static let inputs: [Float] = {
        var xs: [Float] = (0..<1001).map { Float($0 - 500) / 25 }
        xs += [0, 1e-30, -1e-30, 1e-7, -1e-7, 0.6249, 0.625, 0.6251, -0.625, 88, -88, 100, -100, 1e4, -1e4]
        return xs
    }()

    static func relativeError(_ a: Float, _ b: Double) -> Double {
        abs(Double(a) - b) / max(abs(b), 1e-30)
    }

    @Test("sigmoid and tanh are accurate to a few ulp", arguments: Activations.availableVariants)
    func sigmoidAndTanh(variant: String) throws {
        try inVariant(variant) {
            let xs = Self.inputs
            var sig = [Float](repeating: .nan, count: xs.count), th = sig
            xs.withUnsafeBufferPointer { x in
                sig.withUnsafeMutableBufferPointer { Activations.sigmoid(x, into: $0) }
                th.withUnsafeMutableBufferPointer { Activations.tanh(x, into: $0) }
            }
            var worstSigmoid = 0.0, worstTanh = 0.0
            for (i, x) in xs.enumerated() {
                let expectedSigmoid = 1 / (1 + Foundation.exp(-Double(x)))
                // Below e^-87 the kernel returns the smallest normal rather than a denormal.
                if expectedSigmoid > 1e-37 { worstSigmoid = max(worstSigmoid, Self.relativeError(sig[i], expectedSigmoid)) }
                #expect(sig[i] >= 0 && sig[i] <= 1)
                worstTanh = max(worstTanh, Self.relativeError(th[i], Foundation.tanh(Double(x))))
            }
            #expect(worstSigmoid < 5e-7, "sigmoid relative error \(worstSigmoid)")
            #expect(worstTanh < 5e-7, "tanh relative error \(worstTanh)")
        }
    }

    @Test("derivatives through the outputs", arguments: Activations.availableVariants)
    func derivatives(variant: String) throws {
        try inVariant(variant) {
            let y: [Float] = [0, 0.1, 0.5, 0.9, 1, -0.5, -1]
            let dy: [Float] = [1, 2, -1, 0.5, 3, 1, 2]
            var ds = [Float](repeating: .nan, count: y.count), dt = ds
            y.withUnsafeBufferPointer { yb in
                dy.withUnsafeBufferPointer { dyb in
                    ds.withUnsafeMutableBufferPointer { Activations.sigmoidBackward(output: yb, outputGradient: dyb, into: $0) }
                    dt.withUnsafeMutableBufferPointer { Activations.tanhBackward(output: yb, outputGradient: dyb, into: $0) }
                }
            }
            for i in y.indices {
                #expect(abs(ds[i] - dy[i] * y[i] * (1 - y[i])) <= 1e-7)
                #expect(abs(dt[i] - dy[i] * (1 - y[i] * y[i])) <= 1e-7)
            }
        }
    }

    @Test("softmax, log-softmax and cross-entropy stay finite for logits of ±1e4", arguments: Activations.availableVariants)
    func extremeLogits(variant: String) throws {
        try inVariant(variant) {
            let rows = 3, cols = 5
            let logits: [Float] = [1e4, -1e4, 0, 1e4, 3,
                                   -1e4, -1e4, -1e4, -1e4, -1e4,
                                   0.5, -2, 1, 0, 3]
            var probs = [Float](repeating: .nan, count: logits.count), logProbs = probs
            logits.withUnsafeBufferPointer { x in
                probs.withUnsafeMutableBufferPointer { Activations.softmax(x, into: $0, rows: rows, cols: cols) }
                logProbs.withUnsafeMutableBufferPointer { Activations.logSoftmax(x, into: $0, rows: rows, cols: cols) }
            }
            #expect(probs.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
            #expect(logProbs.allSatisfy { $0.isFinite && $0 <= 0 })
            for r in 0..<rows {
                let sum = probs[(r * cols)..<((r + 1) * cols)].reduce(0, +)
                #expect(abs(sum - 1) < 1e-6)
            }
            // Row 0: two equal maxima share the mass; -1e4 gets log-probability ≈ -2e4 − log 2.
            #expect(abs(probs[0] - 0.5) < 1e-6 && abs(probs[3] - 0.5) < 1e-6)
            #expect(abs(logProbs[1] - (-2e4 - Float(log(2.0)))) < 1e-2)
            // Row 2 against a Double reference.
            let row2 = logits[10..<15].map(Double.init)
            let lse = log(row2.map { exp($0) }.reduce(0, +))
            for (i, x) in row2.enumerated() { #expect(abs(Double(logProbs[10 + i]) - (x - lse)) < 1e-6) }

            let targets: [Int32] = [1, 4, 2]
            var gradient = [Float](repeating: .nan, count: logits.count)
            var rowLosses = [Float](repeating: .nan, count: rows)
            let total = logits.withUnsafeBufferPointer { x in
                targets.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { g in
                        rowLosses.withUnsafeMutableBufferPointer { l in
                            Activations.softmaxCrossEntropy(
                                logits: x.baseAddress!, targets: t, gradient: g.baseAddress!, rowLosses: l,
                                cols: cols, gradientScale: 1)
                        }
                    }
                }
            }
            #expect(total.isFinite && gradient.allSatisfy(\.isFinite))
            #expect(abs(rowLosses[0] - (2e4 + Float(log(2.0)))) < 1e-2)
            #expect(abs(Double(rowLosses[1]) - log(5.0)) < 1e-6)
            #expect(abs(Double(rowLosses[2]) - (lse - 1)) < 1e-6)
            for r in 0..<rows {
                // The gradient rows of softmax − onehot sum to zero.
                #expect(abs(gradient[(r * cols)..<((r + 1) * cols)].reduce(0, +)) < 1e-6)
            }
        }
    }
}

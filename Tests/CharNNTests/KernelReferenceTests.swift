import CKernels
@_spi(Internals) import CharNN
import Foundation
import Testing

/// Every C kernel, in every variant this process runs, against a plain Double-precision loop, at
/// sizes that reach each vector main loop and its scalar tail: hidden ≥ 64 and batch × hidden ≥
/// 4096 (the threaded cell's split point), beside odd sizes whose tails are 1–15 elements long.
/// The C target is compiled with -O2 in every configuration (Package.swift), so these run the
/// vectorized code that ships, not -O0 scalar code. Errors are normwise (max |a − b| / max |b| per
/// tensor): the kernels are float formulas whose cancellations (f·c + i·g near 0) no reference fixes.
@Suite("Kernels against a scalar reference, at every loop and tail")
struct KernelReferenceTests {
    /// (batch, hidden): 64×64 = 4096 and 65×67 = 4355 reach the main loops of the widest variant
    /// many times; 67 and 131 leave tails of 3 elements after 16- and 8-wide loops; 3×1 has only tails.
    static let cellShapes = [(64, 64), (65, 67), (1, 131), (3, 1)]
    /// (rows, cols) for the row-wise softmax kernels.
    static let rowShapes = [(64, 65), (3, 1031), (5, 7), (1, 1)]
    /// Element counts for the flat kernels.
    static let lengths = [4099, 4096, 17, 1]

    static func uniform(_ count: Int, _ low: Float, _ high: Float, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in low + (high - low) * rng.nextUnitFloat() }
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// Runs `body` once per variant and shape, the variant named in failures.
    static func eachVariant<S>(_ shapes: [S], _ body: (String, S) throws -> Void) throws {
        for variant in Activations.availableVariants {
            for shape in shapes { try inVariant(variant) { try body(variant, shape) } }
        }
    }

    @Test("the LSTM cell forward: gates, c and h")
    func cellForward() throws {
        try Self.eachVariant(Self.cellShapes) { variant, shape in
            let (batch, hidden) = shape
            let pre = Self.uniform(batch * 4 * hidden, -6, 6, seed: UInt64(batch * 1000 + hidden))
            let cPrev = Self.uniform(batch * hidden, -3, 3, seed: UInt64(hidden))
            var gates = pre, c = [Float](repeating: .nan, count: batch * hidden), h = c
            ck_lstm_cell_forward(&gates, cPrev, &c, &h, batch, hidden)
            var wantGates = [Double](repeating: 0, count: gates.count), wantC = [Double](repeating: 0, count: c.count)
            var wantH = wantC
            for b in 0..<batch {
                for j in 0..<hidden {
                    let row = b * 4 * hidden
                    let i = Self.sigmoid(Double(pre[row + j])), f = Self.sigmoid(Double(pre[row + hidden + j]))
                    let g = Foundation.tanh(Double(pre[row + 2 * hidden + j]))
                    let o = Self.sigmoid(Double(pre[row + 3 * hidden + j]))
                    let cn = f * Double(cPrev[b * hidden + j]) + i * g
                    (wantGates[row + j], wantGates[row + hidden + j]) = (i, f)
                    (wantGates[row + 2 * hidden + j], wantGates[row + 3 * hidden + j]) = (g, o)
                    wantC[b * hidden + j] = cn
                    wantH[b * hidden + j] = o * Foundation.tanh(cn)
                }
            }
            for (name, actual, expected) in [("gates", gates, wantGates), ("c", c, wantC), ("h", h, wantH)] {
                let error = ErrorStats(actual, expected).normwise
                #expect(error < 2e-6, "\(variant) \(batch)×\(hidden) \(name): \(error)")
            }
        }
    }

    @Test("the LSTM cell backward: gate gradients and dc")
    func cellBackward() throws {
        try Self.eachVariant(Self.cellShapes) { variant, shape in
            let (batch, hidden) = shape
            let seed = UInt64(batch * 31 + hidden)
            // Activated gates: i, f, o in (0, 1), g in (-1, 1).
            var gates = Self.uniform(batch * 4 * hidden, 0.02, 0.98, seed: seed)
            for b in 0..<batch {
                for j in 0..<hidden { gates[b * 4 * hidden + 2 * hidden + j] = 2 * gates[b * 4 * hidden + 2 * hidden + j] - 1 }
            }
            let cPrev = Self.uniform(batch * hidden, -2, 2, seed: seed + 1)
            let c = Self.uniform(batch * hidden, -2, 2, seed: seed + 2)
            let dh = Self.uniform(batch * hidden, -1, 1, seed: seed + 3)
            let dcNext = Self.uniform(batch * hidden, -1, 1, seed: seed + 4)
            var dGates = gates, dc = dcNext
            ck_lstm_cell_backward(&dGates, cPrev, c, dh, &dc, batch, hidden)
            var wantGates = [Double](repeating: 0, count: gates.count), wantDC = [Double](repeating: 0, count: dc.count)
            for b in 0..<batch {
                for j in 0..<hidden {
                    let row = b * 4 * hidden, e = b * hidden + j
                    let i = Double(gates[row + j]), f = Double(gates[row + hidden + j])
                    let g = Double(gates[row + 2 * hidden + j]), o = Double(gates[row + 3 * hidden + j])
                    let tc = Foundation.tanh(Double(c[e])), dhe = Double(dh[e])
                    let dcTotal = Double(dcNext[e]) + dhe * o * (1 - tc * tc)
                    wantGates[row + j] = dcTotal * g * i * (1 - i)
                    wantGates[row + hidden + j] = dcTotal * Double(cPrev[e]) * f * (1 - f)
                    wantGates[row + 2 * hidden + j] = dcTotal * i * (1 - g * g)
                    wantGates[row + 3 * hidden + j] = dhe * tc * o * (1 - o)
                    wantDC[e] = dcTotal * f
                }
            }
            for (name, actual, expected) in [("gates", dGates, wantGates), ("dc", dc, wantDC)] {
                let error = ErrorStats(actual, expected).normwise
                #expect(error < 5e-6, "\(variant) \(batch)×\(hidden) \(name): \(error)")
            }
        }
    }

    @Test("softmax, log-softmax and softmax cross-entropy, row by row")
    func rowKernels() throws {
        try Self.eachVariant(Self.rowShapes) { variant, shape in
            let (rows, cols) = shape
            let x = Self.uniform(rows * cols, -8, 8, seed: UInt64(rows * 7 + cols))
            let targets = (0..<rows).map { Int32(($0 * 37 + 11) % cols) }
            var probs = [Float](repeating: .nan, count: x.count), logProbs = probs, grad = probs
            var losses = [Float](repeating: .nan, count: rows)
            ck_softmax(x, &probs, rows, cols)
            ck_log_softmax(x, &logProbs, rows, cols)
            let total = ck_softmax_xent(x, targets, &grad, &losses, rows, cols, 0.5)
            var wantProbs = [Double](repeating: 0, count: x.count), wantLog = wantProbs, wantGrad = wantProbs
            var wantLosses = [Double](repeating: 0, count: rows)
            for r in 0..<rows {
                let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let m = row.max()!
                let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
                for (j, v) in row.enumerated() {
                    wantLog[r * cols + j] = v - lse
                    wantProbs[r * cols + j] = Foundation.exp(v - lse)
                    wantGrad[r * cols + j] = 0.5 * (Foundation.exp(v - lse) - (j == Int(targets[r]) ? 1 : 0))
                }
                wantLosses[r] = lse - row[Int(targets[r])]
            }
            let checks = [("softmax", probs, wantProbs, 2e-6), ("log-softmax", logProbs, wantLog, 1e-6),
                          ("gradient", grad, wantGrad, 2e-6), ("losses", losses, wantLosses, 1e-6)]
            for (name, actual, expected, tolerance) in checks {
                let error = ErrorStats(actual, expected).normwise
                #expect(error < tolerance, "\(variant) \(rows)×\(cols) \(name): \(error)")
            }
            let wantTotal = wantLosses.reduce(0, +)
            #expect(abs(total - wantTotal) <= 1e-6 * max(1, abs(wantTotal)), "\(variant) \(rows)×\(cols) total \(total) vs \(wantTotal)")
        }
    }

    @Test("sigmoid and tanh, forward and backward, over long arrays")
    func elementwise() throws {
        try Self.eachVariant(Self.lengths) { variant, n in
            let x = Self.uniform(n, -9, 9, seed: UInt64(n))
            let dy = Self.uniform(n, -2, 2, seed: UInt64(n + 1))
            // Outputs for the backward kernels away from saturation, where 1 − y² in float would
            // cancel: the kernels are that formula, so only its rounding is measured.
            let ys = Self.uniform(n, 0.05, 0.95, seed: UInt64(n + 2)), yt = ys.map { 2 * $0 - 1 }
            var s = [Float](repeating: .nan, count: n), t = s, ds = s, dt = s
            ck_sigmoid(x, &s, n)
            ck_tanh(x, &t, n)
            ck_sigmoid_backward(ys, dy, &ds, n)
            ck_tanh_backward(yt, dy, &dt, n)
            let wantS = x.map { Self.sigmoid(Double($0)) }, wantT = x.map { Foundation.tanh(Double($0)) }
            let wantDS = (0..<n).map { Double(dy[$0]) * Double(ys[$0]) * (1 - Double(ys[$0])) }
            let wantDT = (0..<n).map { Double(dy[$0]) * (1 - Double(yt[$0]) * Double(yt[$0])) }
            for (name, actual, expected) in [("sigmoid", s, wantS), ("tanh", t, wantT),
                                             ("sigmoid backward", ds, wantDS), ("tanh backward", dt, wantDT)] {
                let error = ErrorStats(actual, expected).normwise
                #expect(error < 1e-6, "\(variant) n \(n) \(name): \(error)")
            }
        }
    }

    @Test("sum of squares: the same bits in every variant, and a double sum's value")
    func sumOfSquares() throws {
        for n in Self.lengths {
            let x = Self.uniform(n, -3, 3, seed: UInt64(n * 3))
            let exact = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            var sums: [Double] = []
            for variant in Activations.availableVariants { try inVariant(variant) { sums.append(ck_sum_squares(x, n)) } }
            #expect(Set(sums).count == 1, "n \(n): \(sums)")
            #expect(abs(sums[0] - exact) <= 1e-13 * exact, "n \(n): \(sums[0]) vs \(exact)")
        }
    }

    @Test("one Adam step over long arrays")
    func adam() throws {
        try Self.eachVariant(Self.lengths) { variant, n in
            let theta0 = Self.uniform(n, -1, 1, seed: UInt64(n * 5)), g = Self.uniform(n, -2, 2, seed: UInt64(n * 5 + 1))
            let m0 = Self.uniform(n, -0.5, 0.5, seed: UInt64(n * 5 + 2)), v0 = Self.uniform(n, 0, 0.5, seed: UInt64(n * 5 + 3))
            var theta = theta0, m = m0, v = v0
            let (beta1, beta2, eps, stepSize, c2root): (Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 0.01, 0.3)
            ck_adam_update(&theta, g, &m, &v, n, beta1, beta2, eps, stepSize, c2root)
            var wantTheta = [Double](repeating: 0, count: n), wantM = wantTheta, wantV = wantTheta
            for i in 0..<n {
                let gi = Double(g[i])
                wantM[i] = Double(beta1) * Double(m0[i]) + Double(1 - beta1) * gi
                wantV[i] = Double(beta2) * Double(v0[i]) + Double(1 - beta2) * gi * gi
                let step = Double(stepSize) * wantM[i] / (wantV[i].squareRoot() / Double(c2root) + Double(eps))
                wantTheta[i] = Double(theta0[i]) - step
            }
            for (name, actual, expected) in [("theta", theta, wantTheta), ("m", m, wantM), ("v", v, wantV)] {
                let error = ErrorStats(actual, expected).normwise
                #expect(error < 1e-6, "\(variant) n \(n) \(name): \(error)")
            }
        }
    }
}

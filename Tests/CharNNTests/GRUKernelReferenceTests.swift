import CKernels
@_spi(Internals) import CharNN
import Foundation
import Testing

/// The GRU cell kernels (ck_gru_cell_forward/backward), in every variant this process runs,
/// against a Double loop of nn.GRU's equations, at KernelReferenceTests' shapes (every vector main
/// loop and scalar tail). The whole-model checks (CellReferenceTests, the gradient check) use one
/// small H; these reach the wide loops.
@Suite("GRU cell kernels against a scalar reference")
struct GRUKernelReferenceTests {
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    @Test("forward: r, z, n and h")
    func forward() throws {
        try KernelReferenceTests.eachVariant(KernelReferenceTests.cellShapes) { variant, shape in
            let (batch, hidden) = shape, G = 3 * hidden
            let gx0 = KernelReferenceTests.uniform(batch * G, -5, 5, seed: UInt64(batch * 7 + hidden))
            let gh = KernelReferenceTests.uniform(batch * G, -5, 5, seed: UInt64(batch * 11 + hidden))
            let hPrev = KernelReferenceTests.uniform(batch * hidden, -1, 1, seed: UInt64(hidden + 3))
            var gx = gx0, h = [Float](repeating: .nan, count: batch * hidden)
            let ghBefore = gh
            ck_gru_cell_forward(&gx, gh, hPrev, &h, batch, hidden)
            var wantGates = [Double](repeating: 0, count: gx.count), wantH = [Double](repeating: 0, count: h.count)
            for b in 0..<batch {
                for j in 0..<hidden {
                    let row = b * G
                    let r = Self.sigmoid(Double(gx0[row + j]) + Double(gh[row + j]))
                    let z = Self.sigmoid(Double(gx0[row + hidden + j]) + Double(gh[row + hidden + j]))
                    let n = Foundation.tanh(Double(gx0[row + 2 * hidden + j]) + r * Double(gh[row + 2 * hidden + j]))
                    (wantGates[row + j], wantGates[row + hidden + j], wantGates[row + 2 * hidden + j]) = (r, z, n)
                    wantH[b * hidden + j] = (1 - z) * n + z * Double(hPrev[b * hidden + j])
                }
            }
            for (name, actual, expected) in [("gates", gx, wantGates), ("h", h, wantH)] {
                let error = ErrorStats(actual, expected).normwise
                #expect(error < 2e-6, "\(variant) \(batch)×\(hidden) \(name): \(error)")
            }
            #expect(gh == ghBefore, "forward leaves the hidden side as it was")
        }
    }

    @Test("backward: both sides' gate gradients and dh")
    func backward() throws {
        try KernelReferenceTests.eachVariant(KernelReferenceTests.cellShapes) { variant, shape in
            let (batch, hidden) = shape, G = 3 * hidden
            let seed = UInt64(batch * 13 + hidden)
            // Activated r, z in (0, 1), n in (-1, 1).
            var gates = KernelReferenceTests.uniform(batch * G, 0.02, 0.98, seed: seed)
            for b in 0..<batch {
                for j in 0..<hidden { gates[b * G + 2 * hidden + j] = 2 * gates[b * G + 2 * hidden + j] - 1 }
            }
            let gh = KernelReferenceTests.uniform(batch * G, -3, 3, seed: seed + 1)
            let hPrev = KernelReferenceTests.uniform(batch * hidden, -1, 1, seed: seed + 2)
            let dhIn = KernelReferenceTests.uniform(batch * hidden, -1, 1, seed: seed + 3)
            var dGx = gates, dGh = gh, dh = dhIn
            ck_gru_cell_backward(&dGx, &dGh, hPrev, &dh, batch, hidden)
            var wantX = [Double](repeating: 0, count: dGx.count), wantH = wantX
            var wantDh = [Double](repeating: 0, count: dh.count)
            for b in 0..<batch {
                for j in 0..<hidden {
                    let row = b * G, d = Double(dhIn[b * hidden + j])
                    let r = Double(gates[row + j]), z = Double(gates[row + hidden + j]), n = Double(gates[row + 2 * hidden + j])
                    let dn = d * (1 - z) * (1 - n * n)
                    let dz = d * (Double(hPrev[b * hidden + j]) - n) * z * (1 - z)
                    let dr = dn * Double(gh[row + 2 * hidden + j]) * r * (1 - r)
                    (wantX[row + j], wantX[row + hidden + j], wantX[row + 2 * hidden + j]) = (dr, dz, dn)
                    (wantH[row + j], wantH[row + hidden + j], wantH[row + 2 * hidden + j]) = (dr, dz, dn * r)
                    wantDh[b * hidden + j] = d * z
                }
            }
            for (name, actual, expected) in [("input side", dGx, wantX), ("hidden side", dGh, wantH), ("dh", dh, wantDh)] {
                let error = ErrorStats(actual, expected).normwise
                #expect(error < 2e-6, "\(variant) \(batch)×\(hidden) \(name): \(error)")
            }
        }
    }
}

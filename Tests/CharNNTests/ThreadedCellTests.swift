import CKernels
@_spi(Internals) import CharNN
import Testing

/// The LSTM cell kernels with the batch rows split over two threads (cell_threaded.c): the same
/// bits as one thread, at shapes where the split happens (batch·hidden ≥ 4096), odd batches
/// included, and one below the threshold.
@Suite("Two-thread cell kernels")
struct ThreadedCellTests {
    static let shapes = [(9, 512), (2, 2048), (16, 256), (33, 128), (3, 100)]

    static func random(_ n: Int, _ rng: inout RandomGenerator, scale: Float = 2) -> [Float] {
        (0..<n).map { _ in (Float(rng.next() % 20001) / 10000 - 1) * scale }
    }

    @Test("forward and backward, split in two, equal one thread to the bit", arguments: shapes)
    func kernels(shape: (Int, Int)) {
        let (B, H) = shape
        var rng = RandomGenerator(seed: UInt64(B * 1000 + H))
        let pre = Self.random(B * 4 * H, &rng), cPrev = Self.random(B * H, &rng)
        let dh = Self.random(B * H, &rng), dcNext = Self.random(B * H, &rng)
        // Outputs start as NaN, so a row the split skips shows up.
        func run(threads: Int32) -> [[Float]] {
            var gates = pre, c = [Float](repeating: .nan, count: B * H), h = c, dc = dcNext
            if threads == 0 {
                ck_lstm_cell_forward(&gates, cPrev, &c, &h, B, H)
            } else {
                ck_lstm_cell_forward_threaded(&gates, cPrev, &c, &h, B, H, threads)
            }
            let activated = gates
            if threads == 0 {
                ck_lstm_cell_backward(&gates, cPrev, c, dh, &dc, B, H)
            } else {
                ck_lstm_cell_backward_threaded(&gates, cPrev, c, dh, &dc, B, H, threads)
            }
            return [activated, c, h, gates, dc]
        }
        let single = run(threads: 0)
        #expect(single.allSatisfy { $0.allSatisfy(\.isFinite) })
        for threads: Int32 in [1, 2] {
            let split = run(threads: threads)
            for (name, (a, b)) in zip(["gates", "c", "h", "dGates", "dc_prev"], zip(single, split)) {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "B\(B) H\(H) threads \(threads): \(name)")
            }
        }
    }

    /// Only the packed kernel hands the thread count to the cell (LSTMLayer); with OpenBLAS
    /// (no AVX-512) the model always runs the cell on one thread, and the test above covers the
    /// kernels themselves on every host.
    @Test("a model pass with recurrentThreads 2 gives the same logits, loss, gradients and states as 1",
          .enabled(if: PackedGEMM.isSupported, "needs the packed kernels (AVX2 or AVX-512): elsewhere recurrentThreads does not reach the cell kernels"))
    func modelPass() throws {
        let config = ModelConfig(vocabularySize: 20, embeddingSize: 8, hiddenSize: 256, layers: 2)
        let model = try CharModel(config: config, seed: 4)
        let B = 16, T = 5
        let tokens = (0..<(B * T)).map { Int32($0 * 7 % 20) }, targets = (0..<(B * T)).map { Int32($0 * 3 % 20) }
        var results: [([Float], Double, [Float], [Float])] = []
        for threads in [1, 2] {
            let workspace = try ModelWorkspace(config: config, batch: B, steps: T)
            workspace.recurrentThreads = threads
            var state = RecurrentState(layers: 2, batch: B, hidden: 256)
            let loss = try #require(try model.forward(tokens: tokens, targets: targets, state: &state, workspace: workspace))
            let logits = workspace.logitsCopy()
            var gradients = ParameterSet(zerosFor: model.parameters.layout)
            try model.backward(workspace: workspace, into: &gradients)
            results.append((logits, loss, gradients.values, state.h + state.c))
        }
        #expect(results[0].0 == results[1].0 && results[0].1 == results[1].1)
        #expect(results[0].2 == results[1].2 && results[0].3 == results[1].3)
    }
}

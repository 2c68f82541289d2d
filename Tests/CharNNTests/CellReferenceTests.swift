@_spi(Internals) import CharNN
import Foundation
import Testing

/// Matches charnn's GRU and RNN forward and backward against PyTorch on the committed fixtures,
/// written by Tests/Reference/make_cell_fixtures.py: nn.Embedding + 2-layer nn.GRU (nn.RNN with
/// tanh) + nn.Linear with float32 weights, run in float64. The tensors load under their
/// `state_dict` names (`gru.*`, `rnn.*`), so this also checks that charnn's layout is the module's.
@Suite("PyTorch GRU and RNN reference fixtures")
struct CellReferenceTests {
    /// Largest accepted elementwise relative error: the issue's bar, 1e-5, as for the LSTM, but
    /// 2e-5 for the GRU's gradients. PyTorch's own float32 nn.GRU lands at 1.37e-5 from the float64
    /// answer on this fixture (gru.weight_hh_l1; its RNN at 8.8e-6), so 1e-5 is below float32's
    /// reach there; charnn's float32 lands at 9.4e-6 (baseline) and 1.6e-5 (avx2, FMA). A wrong
    /// term is off by 1e-2 or more.
    static let tolerance = 1e-5
    static func gradientTolerance(_ cell: RecurrentCell) -> Double { cell == .gru ? 2e-5 : tolerance }

    struct Reference {
        let file: SafeTensorsFile
        let config: ModelConfig
        let batch: Int, steps: Int

        init(_ cell: RecurrentCell) throws {
            let file = try SafeTensorsFile(contentsOf: TestFiles.fixture("\(cell.rawValue)_reference.safetensors"))
            func meta(_ key: String) throws -> Int { try #require(Int(file.metadata[key] ?? "")) }
            #expect(file.metadata["cell"] == cell.rawValue)
            self.file = file
            config = ModelConfig(
                vocabularySize: try meta("vocab_size"), embeddingSize: try meta("embedding_size"),
                hiddenSize: try meta("hidden_size"), layers: try meta("layers"), cell: cell)
            batch = try meta("batch")
            steps = try meta("seq")
        }

        func tensor(_ name: String) throws -> SafeTensorsFile.Tensor { try #require(file[name], "fixture lacks \(name)") }

        func model() throws -> CharModel {
            var parameters = ParameterSet(zerosFor: ParameterLayout(config: config))
            for t in parameters.layout.tensors {
                let source = try tensor(t.name)
                #expect(source.shape == t.shape, "\(t.name) shape")
                try parameters.setTensor(t.name, source.floats())
            }
            return try CharModel(config: config, parameters: parameters)
        }

        func tokens(_ name: String) throws -> [Int32] {
            timeMajor(try #require(try tensor(name).integers()).map { Int32($0) }, batch: batch, steps: steps)
        }

        /// h0 from the fixture; c, which these cells do not have, stays zero.
        func initialState() throws -> RecurrentState {
            let h = try tensor("h0").floats()
            return try RecurrentState(layers: config.layers, batch: batch, hidden: config.hiddenSize, h: h,
                                      c: [Float](repeating: 0, count: h.count))
        }
    }

    static let cases: [(RecurrentCell, String)] = [RecurrentCell.gru, .rnn].flatMap { cell in
        Activations.availableVariants.map { (cell, $0) }
    }

    @Test("logits, final state, loss and every gradient match PyTorch", arguments: cases)
    func matchesPyTorch(cell: RecurrentCell, variant: String) throws {
        try inVariant(variant) {
            let ref = try Reference(cell)
            let model = try ref.model()
            let workspace = try ModelWorkspace(config: model.config, batch: ref.batch, steps: ref.steps)
            let tokens = try ref.tokens("inputs"), targets = try ref.tokens("targets")
            let V = ref.config.vocabularySize

            var state = try ref.initialState()
            try model.forward(tokens: tokens, state: &state, workspace: workspace)
            let expectedLogits = timeMajor(try ref.tensor("logits").doubles(), batch: ref.batch, steps: ref.steps, width: V)
            let logitsError = maxRelativeError(workspace.logitsCopy(), expectedLogits)
            let hError = maxRelativeError(state.h, try ref.tensor("h_n").doubles())
            #expect(logitsError < Self.tolerance)
            #expect(hError < Self.tolerance)
            #expect(state.c.allSatisfy { $0 == 0 }, "a \(cell) has no cell state to carry")

            state = try ref.initialState()
            let loss = try #require(try model.forward(tokens: tokens, targets: targets, state: &state, workspace: workspace))
            let expectedLoss = try ref.tensor("loss").doubles()[0]
            #expect(abs(loss - expectedLoss) / expectedLoss < Self.tolerance, "loss \(loss) vs \(expectedLoss)")
            var gradients = ParameterSet(zerosFor: model.parameters.layout)
            try model.backward(workspace: workspace, into: &gradients)
            var worst = ("logits", logitsError)
            for t in gradients.layout.tensors {
                let error = maxRelativeError(try #require(gradients.tensor(t.name)), try ref.tensor("grad." + t.name).doubles())
                #expect(error < Self.gradientTolerance(cell), "grad of \(t.name): max relative error \(error)")
                if error > worst.1 { worst = (t.name, error) }
            }
            let h0Error = maxRelativeError(workspace.initialStateGradient().h, try ref.tensor("grad.h0").doubles())
            #expect(h0Error < Self.gradientTolerance(cell), "grad of h0: max relative error \(h0Error)")
            print("\(cell) reference (\(Activations.variant)): h_n \(hError), largest gradient error \(max(worst.1, h0Error)) in \(h0Error > worst.1 ? "h0" : worst.0)")
        }
    }

    @Test("one symbol at a time, the sampler's step gives the batched forward pass's logits", arguments: RecurrentCell.allCases)
    func inferenceStepMatchesForward(cell: RecurrentCell) throws {
        // Three layers, so the GRU's layer-0 layout and its layout above are both used twice over.
        let config = ModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 9, layers: 3, cell: cell)
        var model = try CharModel(config: config, seed: 3)
        var rng = RandomGenerator(seed: 8)
        // Non-zero biases, so every bias's place in the fused layouts is checked.
        for t in model.parameters.layout.tensors where t.shape.count == 1 {
            for i in t.range { model.parameters.values[i] = rng.nextUnitFloat() - 0.5 }
        }
        // One stream takes the GEMV path, two the GEMM path.
        for streams in [1, 2] { try stepMatches(model: model, streams: streams, rng: &rng) }
    }

    func stepMatches(model: CharModel, streams: Int, rng: inout RandomGenerator) throws {
        let config = model.config, cell = config.cell, steps = 7
        let tokens = (0..<(streams * steps)).map { _ in Int32(rng.next() % 11) }  // time-major [T, N]
        let workspace = try ModelWorkspace(config: config, batch: streams, steps: steps)
        var state = RecurrentState(layers: 3, batch: streams, hidden: 9)
        try model.forward(tokens: tokens, state: &state, workspace: workspace)
        let batched = workspace.logitsCopy()
        let step = try InferenceStep(model: model, streams: streams)
        var worst = 0.0
        for t in 0..<steps {
            Array(tokens[(t * streams)..<((t + 1) * streams)]).withUnsafeBufferPointer { step.step($0) }
            let stepped = Array(UnsafeBufferPointer(start: step.logits, count: streams * 11))
            worst = max(worst, maxRelativeError(stepped, batched[(t * streams * 11)..<((t + 1) * streams * 11)].map(Double.init)))
        }
        #expect(worst < 1e-5, "\(cell), \(streams) stream(s): step logits differ from the batched pass by \(worst)")
    }
}

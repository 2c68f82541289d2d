@_spi(Internals) import CharNN
import Foundation
import Testing

/// Matches charnn's forward and backward against PyTorch on the committed fixture, written by
/// Tests/Reference/make_lstm_fixture.py: nn.Embedding + 2-layer nn.LSTM + nn.Linear with float32
/// weights, run in float64, so the fixture is the exact answer charnn's float32 must approach.
@Suite("PyTorch reference fixture")
struct LSTMReferenceTests {
    /// Largest accepted elementwise relative error (the bar).
    static let tolerance = 1e-5

    struct Reference {
        let file: SafeTensorsFile
        let config: ModelConfig
        let batch: Int, steps: Int

        init() throws {
            let file = try SafeTensorsFile(contentsOf: TestFiles.fixture("lstm_reference.safetensors"))
            func meta(_ key: String) throws -> Int { try #require(Int(file.metadata[key] ?? "")) }
            self.file = file
            config = ModelConfig(
                vocabularySize: try meta("vocab_size"), embeddingSize: try meta("embedding_size"),
                hiddenSize: try meta("hidden_size"), layers: try meta("layers"))
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
            let values = try #require(try tensor(name).integers()).map { Int32($0) }
            return timeMajor(values, batch: batch, steps: steps)
        }

        func initialState() throws -> RecurrentState {
            try RecurrentState(
                layers: config.layers, batch: batch, hidden: config.hiddenSize,
                h: try tensor("h0").floats(), c: try tensor("c0").floats())
        }
    }

    @Test("logits and final states match PyTorch", arguments: Activations.availableVariants)
    func forwardMatches(variant: String) throws {
        try inVariant(variant) { try forwardMatches() }
    }

    @Test("loss and every gradient match PyTorch", arguments: Activations.availableVariants)
    func backwardMatches(variant: String) throws {
        try inVariant(variant) { try backwardMatches() }
    }

    func forwardMatches() throws {
        let ref = try Reference()
        let model = try ref.model()
        let workspace = try ModelWorkspace(config: ref.config, batch: ref.batch, steps: ref.steps)
        var state = try ref.initialState()
        try model.forward(tokens: try ref.tokens("inputs"), state: &state, workspace: workspace)

        let expectedLogits = timeMajor(try ref.tensor("logits").doubles(), batch: ref.batch, steps: ref.steps, width: ref.config.vocabularySize)
        let logitsError = maxRelativeError(workspace.logitsCopy(), expectedLogits)
        let hError = maxRelativeError(state.h, try ref.tensor("h_n").doubles())
        let cError = maxRelativeError(state.c, try ref.tensor("c_n").doubles())
        print("reference forward (\(Activations.variant)): max relative error logits \(logitsError), h_n \(hError), c_n \(cError)")
        #expect(logitsError < Self.tolerance)
        #expect(hError < Self.tolerance)
        #expect(cError < Self.tolerance)
    }

    func backwardMatches() throws {
        let ref = try Reference()
        let model = try ref.model()
        let workspace = try ModelWorkspace(config: ref.config, batch: ref.batch, steps: ref.steps)
        var state = try ref.initialState()
        let loss = try #require(try model.forward(
            tokens: try ref.tokens("inputs"), targets: try ref.tokens("targets"), state: &state, workspace: workspace))
        var gradients = ParameterSet(zerosFor: model.parameters.layout)
        try model.backward(workspace: workspace, into: &gradients)

        let expectedLoss = try ref.tensor("loss").doubles()[0]
        let lossError = abs(loss - expectedLoss) / expectedLoss
        #expect(lossError < Self.tolerance, "loss \(loss) vs \(expectedLoss)")
        var worst = ("loss", lossError)
        for t in gradients.layout.tensors {
            let error = maxRelativeError(try #require(gradients.tensor(t.name)), try ref.tensor("grad." + t.name).doubles())
            #expect(error < Self.tolerance, "grad of \(t.name): max relative error \(error)")
            if error > worst.1 { worst = (t.name, error) }
        }
        let stateGradient = workspace.initialStateGradient()
        for (name, values) in [("h0", stateGradient.h), ("c0", stateGradient.c)] {
            let error = maxRelativeError(values, try ref.tensor("grad." + name).doubles())
            #expect(error < Self.tolerance, "grad of \(name): max relative error \(error)")
            if error > worst.1 { worst = (name, error) }
        }
        print("reference backward (\(Activations.variant)): largest max relative error \(worst.1) in \(worst.0)")
    }
}

@_spi(Internals) @testable import CharNN
import Testing

/// The model's contracts beyond the numbers: layouts, validation, state carrying and dropout.
@Suite("Model")
struct ModelTests {
    static let config = ModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 6, layers: 3, dropout: 0.25)

    @Test("parameters use PyTorch state_dict names, shapes and order")
    func layout() {
        let layout = ParameterLayout(config: Self.config)
        let names = layout.tensors.map(\.name)
        #expect(names.first == "embedding.weight")
        #expect(Array(names[1...4]) == ["lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"])
        #expect(Array(names.suffix(2)) == ["head.weight", "head.bias"])
        #expect(layout["lstm.weight_ih_l0"]?.shape == [24, 5])
        #expect(layout["lstm.weight_ih_l2"]?.shape == [24, 6])
        #expect(layout["head.weight"]?.shape == [11, 6])
        #expect(layout.totalCount == 11 * 5 + (24 * 5 + 24 * 6 + 48) + 2 * (24 * 6 * 2 + 48) + 11 * 6 + 11)
    }

    @Test("the forget-gate bias starts at 1 and other biases at 0")
    func forgetBias() throws {
        let model = try CharModel(config: Self.config, seed: 1)
        for k in 0..<3 {
            let bias = try #require(model.parameters.tensor("lstm.bias_ih_l\(k)"))
            #expect(bias[0..<6].allSatisfy { $0 == 0 })
            #expect(bias[6..<12].allSatisfy { $0 == 1 })
            #expect(bias[12..<24].allSatisfy { $0 == 0 })
            #expect(try #require(model.parameters.tensor("lstm.bias_hh_l\(k)")).allSatisfy { $0 == 0 })
        }
    }

    @Test("invalid configurations and inputs are rejected with a reason")
    func validation() throws {
        #expect(throws: ModelError.self) { try CharModel(config: ModelConfig(vocabularySize: 5, embeddingSize: 0, hiddenSize: 4, layers: 1), seed: 0) }
        #expect(throws: ModelError.self) { try CharModel(config: ModelConfig(vocabularySize: 5, embeddingSize: 2, hiddenSize: 4, layers: 1, dropout: 1), seed: 0) }
        let model = try CharModel(config: Self.config, seed: 1)
        let workspace = try ModelWorkspace(config: Self.config, batch: 2, steps: 3)
        var state = RecurrentState(layers: 3, batch: 2, hidden: 6)
        #expect(throws: ModelError.tokenOutOfRange(token: 11, vocabularySize: 11)) {
            try model.forward(tokens: [0, 1, 2, 3, 4, 11], state: &state, workspace: workspace)
        }
        #expect(throws: ModelError.self) { try model.forward(tokens: [0, 1, 2], state: &state, workspace: workspace) }
        var wrongState = RecurrentState(layers: 3, batch: 4, hidden: 6)
        #expect(throws: ModelError.self) { try model.forward(tokens: [0, 1, 2, 3, 4, 5], state: &wrongState, workspace: workspace) }
        var gradients = ParameterSet(zerosFor: model.parameters.layout)
        #expect(throws: ModelError.self) { try model.backward(workspace: workspace, into: &gradients) }
    }

    @Test("carrying the state across two chunks equals one pass over both")
    func carriedState() throws {
        let config = ModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 6, layers: 2)
        let model = try CharModel(config: config, seed: 3)
        let tokens: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1]  // [T=6, B=2]
        var whole = RecurrentState(layers: 2, batch: 2, hidden: 6)
        let wide = try ModelWorkspace(config: config, batch: 2, steps: 6)
        try model.forward(tokens: tokens, state: &whole, workspace: wide)
        var split = RecurrentState(layers: 2, batch: 2, hidden: 6)
        let half = try ModelWorkspace(config: config, batch: 2, steps: 3)
        try model.forward(tokens: Array(tokens[0..<6]), state: &split, workspace: half)
        try model.forward(tokens: Array(tokens[6..<12]), state: &split, workspace: half)
        // Equal up to float rounding: BLAS may block a 12-row product differently from a 6-row one.
        func close(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 } }
        #expect(close(whole.h, split.h) && close(whole.c, split.c))
        #expect(close(Array(wide.logitsCopy().suffix(3 * 2 * 11)), half.logitsCopy()))
        #expect(whole.h.contains { abs($0) > 1e-3 })
    }

    @Test("dropout is deterministic per seed, changes the loss, and is off in evaluation")
    func dropout() throws {
        let model = try CharModel(config: Self.config, seed: 2)
        let workspace = try ModelWorkspace(config: Self.config, batch: 2, steps: 4)
        let tokens: [Int32] = [0, 1, 2, 3, 4, 5, 6, 7], targets: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8]
        func trainingLoss(seed: UInt64) throws -> Double {
            var state = RecurrentState(layers: 3, batch: 2, hidden: 6), rng = RandomGenerator(seed: seed)
            return try model.forwardTraining(tokens: tokens, targets: targets, state: &state, workspace: workspace, rng: &rng)
        }
        var state = RecurrentState(layers: 3, batch: 2, hidden: 6)
        let evaluation = try #require(try model.forward(tokens: tokens, targets: targets, state: &state, workspace: workspace))
        var again = RecurrentState(layers: 3, batch: 2, hidden: 6)
        #expect(try model.forward(tokens: tokens, targets: targets, state: &again, workspace: workspace) == evaluation)
        #expect(try trainingLoss(seed: 1) == trainingLoss(seed: 1))
        #expect(try trainingLoss(seed: 1) != trainingLoss(seed: 2))
        #expect(try trainingLoss(seed: 1) != evaluation)
    }

    @Test("dropout drops each unit with probability p and scales the kept ones by 1/(1-p)", arguments: [Float(0.1), 0.3, 0.5])
    func dropoutRate(p: Float) {
        // The loss tests above only see that dropout changes something; a mask drawn at the
        // wrong rate would still pass them. 100 000 draws put the dropped fraction within
        // 0.01 of p (over six standard deviations at p = 0.5).
        let n = 100_000
        let x = [Float](repeating: 2, count: n)
        var out = [Float](repeating: 0, count: n), mask = out
        var rng = RandomGenerator(seed: 11)
        x.withUnsafeBufferPointer { xs in
            dropoutForward(out: &out, mask: &mask, x: xs.baseAddress!, rows: n / 100, width: 100, probability: p,
                           generators: &rng, count: 1)
        }
        let dropped = mask.filter { $0 == 0 }.count
        #expect(abs(Double(dropped) / Double(n) - Double(p)) < 0.01, "dropped \(dropped) of \(n) at p = \(p)")
        #expect(mask.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) })
        #expect(zip(out, mask).allSatisfy { $0 == 2 * $1 })
    }
}

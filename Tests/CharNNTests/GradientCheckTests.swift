import CharNN
import Testing

/// Finite-difference check of every parameter tensor, the input and the carried initial state on a
/// tiny model (2 layers, H = 8, B = 3, T = 5) of each cell (LSTM, GRU, RNN), with and without dropout.
///
/// Central differences in float32 with ε = 1e-2: the truncation error O(ε²) and the rounding error
/// of the loss (accumulated in Double, so about 1e-7 · loss / ε) are both near 1e-5, well below the
/// gradients' scale of 1e-3 to 1e-1. An element passes when |numeric − analytic| ≤ 1e-2 ·
/// max(|numeric|, |analytic|) + 5e-5; a wrong term in any backward pass misses by far more.
@Suite("Finite-difference gradient check")
struct GradientCheckTests {
    static let epsilon: Float = 1e-2
    static let relativeTolerance: Float = 1e-2
    static let absoluteTolerance: Float = 5e-5

    /// Everything one loss evaluation needs, so each evaluation draws the same dropout masks.
    struct Problem {
        var model: CharModel
        let tokens: [Int32], targets: [Int32]
        var state: RecurrentState
        let seed: UInt64
        let workspace: ModelWorkspace

        init(dropout: Float, cell: RecurrentCell, lockedDropout: Bool = false) throws {
            let config = ModelConfig(vocabularySize: 20, embeddingSize: 4, hiddenSize: 8, layers: 2, dropout: dropout, cell: cell)
            model = try CharModel(config: config, seed: 7)
            var rng = RandomGenerator(seed: 99)
            // 15 distinct tokens: each embedding row is then exactly one position's input, so the
            // embedding check is also the input check.
            var ids = Array(Int32(0)..<20)
            ids.shuffle(using: &rng)
            tokens = Array(ids.prefix(15))
            targets = (0..<15).map { _ in Int32(rng.next() % 20) }
            state = RecurrentState(layers: 2, batch: 3, hidden: 8)
            for i in state.h.indices {
                state.h[i] = rng.nextUnitFloat() - 0.5
                state.c[i] = 2 * rng.nextUnitFloat() - 1
            }
            seed = 5
            workspace = try ModelWorkspace(config: config, batch: 3, steps: 5)
            workspace.locksDropoutOverTime = lockedDropout
        }

        func loss(model: CharModel? = nil, state: RecurrentState? = nil) throws -> Float {
            var s = state ?? self.state
            var rng = RandomGenerator(seed: seed)
            return Float(try (model ?? self.model).forwardTraining(
                tokens: tokens, targets: targets, state: &s, workspace: workspace, rng: &rng))
        }
    }

    static func close(_ numeric: Float, _ analytic: Float) -> Bool {
        abs(numeric - analytic) <= relativeTolerance * max(abs(numeric), abs(analytic)) + absoluteTolerance
    }

    /// No dropout, dropout drawn at every step, and locked dropout (one mask per stream for the T steps).
    static let dropouts: [(probability: Float, locked: Bool)] = [(0, false), (0.3, false), (0.3, true)]

    @Test("every parameter, the input and the initial state", arguments: dropouts, RecurrentCell.allCases)
    func gradientsMatchFiniteDifferences(dropout setting: (probability: Float, locked: Bool), cell: RecurrentCell) throws {
        let dropout = setting.probability
        let problem = try Problem(dropout: dropout, cell: cell, lockedDropout: setting.locked)
        _ = try problem.loss()
        var gradients = ParameterSet(zerosFor: problem.model.parameters.layout)
        try problem.model.backward(workspace: problem.workspace, into: &gradients)
        let stateGradient = problem.workspace.initialStateGradient()
        let inputGradient = try #require(problem.model.inputGradient(workspace: problem.workspace))

        var checked = 0, worst: Float = 0
        for tensor in gradients.layout.tensors {
            var failures = 0
            for index in tensor.range {
                var plus = problem.model, minus = problem.model
                plus.parameters.values[index] += Self.epsilon
                minus.parameters.values[index] -= Self.epsilon
                let numeric = (try problem.loss(model: plus) - problem.loss(model: minus)) / (2 * Self.epsilon)
                let analytic = gradients.values[index]
                worst = max(worst, abs(numeric - analytic))
                if !Self.close(numeric, analytic) { failures += 1 }
                checked += 1
            }
            #expect(failures == 0, "\(tensor.name): \(failures) of \(tensor.count) elements differ from finite differences")
        }
        for (name, analytic) in [("h0", stateGradient.h), ("c0", stateGradient.c)] {
            var failures = 0
            for index in analytic.indices {
                var plus = problem.state, minus = problem.state
                if name == "h0" { plus.h[index] += Self.epsilon; minus.h[index] -= Self.epsilon }
                else { plus.c[index] += Self.epsilon; minus.c[index] -= Self.epsilon }
                let numeric = (try problem.loss(state: plus) - problem.loss(state: minus)) / (2 * Self.epsilon)
                worst = max(worst, abs(numeric - analytic[index]))
                if !Self.close(numeric, analytic[index]) { failures += 1 }
                checked += 1
            }
            #expect(failures == 0, "\(name): \(failures) of \(analytic.count) elements differ from finite differences")
        }
        // The input gradient, position by position, is the embedding gradient of that position's
        // (distinct) token, which the finite differences above have checked.
        let embedding = try #require(gradients.tensor("embedding.weight"))
        let width = problem.model.config.embeddingSize
        for (position, token) in problem.tokens.enumerated() {
            for j in 0..<width {
                #expect(inputGradient[position * width + j] == embedding[Int(token) * width + j])
            }
        }
        print("gradient check (\(cell), dropout \(dropout)\(setting.locked ? " locked" : "")): \(checked) elements, largest |numeric − analytic| \(worst)")
    }
}

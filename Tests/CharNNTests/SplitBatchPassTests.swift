@testable import CharNN
import Testing

@Suite("Split-batch training pass: two halves of the streams, one gradient")
struct SplitBatchPassTests {
    static let config = ModelConfig(vocabularySize: 11, embeddingSize: 6, hiddenSize: 40, layers: 2)

    /// Tokens [T, B] and a non-zero carried state, the same every call.
    static func batch(_ B: Int, _ T: Int) -> (inputs: [Int32], targets: [Int32], state: RecurrentState) {
        let inputs = (0..<(B * T)).map { Int32(($0 * 7 + 3) % 11) }
        let targets = (0..<(B * T)).map { Int32(($0 * 5 + 1) % 11) }
        var state = RecurrentState(layers: config.layers, batch: B, hidden: config.hiddenSize)
        for i in state.h.indices {
            state.h[i] = Float(i % 13) * 0.05 - 0.3
            state.c[i] = Float(i % 7) * 0.1 - 0.3
        }
        return (inputs, targets, state)
    }

    @Test("without dropout, the halves give the whole batch's loss, gradient and final state (B = 5: halves of 3 and 2)",
          arguments: [1, 2])
    func matchesOnePass(threads: Int) throws {
        let B = 5, T = 4
        let model = try CharModel(config: Self.config, seed: 3)
        let (inputs, targets, start) = Self.batch(B, T)

        var wholeState = start
        let workspace = try ModelWorkspace(config: Self.config, batch: B, steps: T)
        let wholeLoss = try #require(try model.forward(tokens: inputs, targets: targets, state: &wholeState, workspace: workspace))
        var wholeGradients = ParameterSet(zerosFor: model.parameters.layout)
        try model.backward(workspace: workspace, into: &wholeGradients)

        let pass = try SplitBatchPass(config: Self.config, batch: B, steps: T)
        var splitState = start
        var rng = RandomGenerator(seed: 1)
        var splitGradients = ParameterSet(zerosFor: model.parameters.layout)
        for i in splitGradients.values.indices { splitGradients.values[i] = 9 }  // overwritten, not added to
        let splitLoss = try pass.run(model: model, inputs: inputs, targets: targets, carried: &splitState, rng: &rng,
                                     threads: threads, into: &splitGradients)

        #expect(abs(splitLoss - wholeLoss) < 1e-6 * abs(wholeLoss), "loss \(splitLoss) vs \(wholeLoss)")
        let scale = wholeGradients.values.map(abs).max() ?? 1
        let worstGradient = zip(splitGradients.values, wholeGradients.values).map { abs($0 - $1) }.max() ?? 1
        #expect(worstGradient < 1e-5 * scale, "largest gradient difference \(worstGradient) of \(scale)")
        let worstState = zip(splitState.h + splitState.c, wholeState.h + wholeState.c).map { abs($0 - $1) }.max() ?? 1
        #expect(worstState < 1e-6, "largest state difference \(worstState)")
        #expect(splitState != start)
    }

    @Test("with dropout, one and two threads compute the same bits, and each call draws new masks")
    func threadCountDoesNotMatter() throws {
        let B = 6, T = 5
        var config = Self.config
        config.dropout = 0.3
        let model = try CharModel(config: config, seed: 4)
        let (inputs, targets, start) = Self.batch(B, T)
        var results: [(loss: Double, gradients: [Float], state: RecurrentState, rng: RandomGenerator)] = []
        for threads in [1, 2, 2] {
            let pass = try SplitBatchPass(config: config, batch: B, steps: T)
            var state = start
            var rng = RandomGenerator(seed: 8)
            var gradients = ParameterSet(zerosFor: model.parameters.layout)
            let loss = try pass.run(model: model, inputs: inputs, targets: targets, carried: &state, rng: &rng,
                                    threads: threads, into: &gradients)
            results.append((loss, gradients.values, state, rng))
        }
        for other in results.dropFirst() {
            #expect(other.loss == results[0].loss)
            #expect(other.gradients == results[0].gradients)
            #expect(other.state == results[0].state)
            #expect(other.rng == results[0].rng)
        }
        #expect(results[0].rng != RandomGenerator(seed: 8), "the run's generator seeds the halves' masks")

        // A second step from the same inputs draws other masks, so its loss differs.
        let pass = try SplitBatchPass(config: config, batch: B, steps: T)
        var state = start
        var rng = results[0].rng
        var gradients = ParameterSet(zerosFor: model.parameters.layout)
        let again = try pass.run(model: model, inputs: inputs, targets: targets, carried: &state, rng: &rng,
                                 threads: 2, into: &gradients)
        #expect(again != results[0].loss)
    }

    @Test("a batch of one stream runs as one pass")
    func singleStream() throws {
        let model = try CharModel(config: Self.config, seed: 5)
        let (inputs, targets, start) = Self.batch(1, 3)
        var wholeState = start
        let workspace = try ModelWorkspace(config: Self.config, batch: 1, steps: 3)
        let wholeLoss = try #require(try model.forward(tokens: inputs, targets: targets, state: &wholeState, workspace: workspace))
        var wholeGradients = ParameterSet(zerosFor: model.parameters.layout)
        try model.backward(workspace: workspace, into: &wholeGradients)

        let pass = try SplitBatchPass(config: Self.config, batch: 1, steps: 3)
        var state = start
        var rng = RandomGenerator(seed: 1)
        var gradients = ParameterSet(zerosFor: model.parameters.layout)
        let loss = try pass.run(model: model, inputs: inputs, targets: targets, carried: &state, rng: &rng,
                                threads: 2, into: &gradients)
        #expect(loss == wholeLoss)
        #expect(gradients == wholeGradients)
        #expect(state == wholeState)
    }

    @Test("a batch of the wrong shape is refused by name")
    func wrongShape() throws {
        let model = try CharModel(config: Self.config, seed: 5)
        let pass = try SplitBatchPass(config: Self.config, batch: 4, steps: 3)
        let (inputs, targets, start) = Self.batch(3, 3)
        var state = start
        var rng = RandomGenerator(seed: 1)
        var gradients = ParameterSet(zerosFor: model.parameters.layout)
        #expect(throws: ModelError.self) {
            try pass.run(model: model, inputs: inputs, targets: targets, carried: &state, rng: &rng, threads: 2, into: &gradients)
        }
    }

    @Test("with dropout, ranks' shares of the streams add up to the whole batch: loss, gradient, every stream's state",
          arguments: [[0..<3, 3..<7], [0..<1, 1..<4, 4..<7]])
    func sharesAddUp(shares: [Range<Int>]) throws {
        // What data-parallel training relies on: each rank runs its share (mask draws depend on
        // the stream, not on who runs it), and the sum over ranks is the single-process step.
        let B = 7, T = 5
        var config = Self.config
        config.dropout = 0.3
        let model = try CharModel(config: config, seed: 6)
        let (inputs, targets, start) = Self.batch(B, T)

        var wholeState = start
        var wholeRng = RandomGenerator(seed: 21)
        var whole = ParameterSet(zerosFor: model.parameters.layout)
        let wholeLoss = try SplitBatchPass(config: config, batch: B, steps: T).run(
            model: model, inputs: inputs, targets: targets, carried: &wholeState, rng: &wholeRng, threads: 1, into: &whole)

        var lossSum = 0.0
        var gradientSum = [Float](repeating: 0, count: whole.values.count)
        for share in shares {
            var state = start
            var rng = RandomGenerator(seed: 21)
            var gradients = ParameterSet(zerosFor: model.parameters.layout)
            lossSum += try SplitBatchPass(config: config, batch: B, steps: T, share: share).run(
                model: model, inputs: inputs, targets: targets, carried: &state, rng: &rng, threads: 2, into: &gradients)
            #expect(rng == wholeRng, "every rank draws the same from the run's generator")
            for i in gradientSum.indices { gradientSum[i] += gradients.values[i] }
            let H = config.hiddenSize
            for k in 0..<config.layers {
                for b in 0..<B {
                    let slot = ((k * B + b) * H)..<((k * B + b + 1) * H)
                    if share.contains(b) {
                        let worst = slot.map { max(abs(state.h[$0] - wholeState.h[$0]), abs(state.c[$0] - wholeState.c[$0])) }.max()!
                        #expect(worst < 1e-5, "layer \(k) stream \(b) stepped like the whole batch's: off by \(worst)")
                    } else {
                        #expect(state.h[slot] == start.h[slot] && state.c[slot] == start.c[slot], "layer \(k) stream \(b) untouched")
                    }
                }
            }
        }
        #expect(abs(lossSum - wholeLoss) < 1e-6 * wholeLoss, "loss \(lossSum) vs \(wholeLoss)")
        let scale = whole.values.map(abs).max() ?? 1
        let worst = zip(gradientSum, whole.values).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5 * scale, "largest gradient difference \(worst) of \(scale)")
    }

    @Test("a share outside the batch is refused")
    func shareOutsideBatch() {
        #expect(throws: ModelError.self) { try SplitBatchPass(config: Self.config, batch: 4, steps: 3, share: 2..<5) }
        #expect(throws: ModelError.self) { try SplitBatchPass(config: Self.config, batch: 4, steps: 3, share: 2..<2) }
    }
}

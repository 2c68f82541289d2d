/// Mean loss over a whole token sequence (the validation split), in a fixed order, so every
/// evaluation of a run scores exactly the same predictions.
///
/// The n − 1 predictions are cut into B contiguous segments of L = (n − 1) / B, each read in chunks
/// of T with the state carried, as in training; the (n − 1) mod B predictions left over run through
/// a batch-1 workspace. The B segments are scored as two halves of the streams (⌈B/2⌉ and ⌊B/2⌋), the
/// shapes of training's `SplitBatchPass`: during a run the trainer lends its two workspaces, idle
/// between steps, so validation holds no activations of its own; with two threads the halves run at
/// once. Every stream's arithmetic is the same whichever way it runs, so the score does not depend on
/// the thread count.
package final class Evaluator {
    package let tokens: TokenSequence
    package let batch: Int
    package let steps: Int
    /// Two or more: score the two halves of the streams at once, one per core.
    package var threads = 1
    private var ownHalves: [ModelWorkspace] = []
    private var single: ModelWorkspace?
    private var config: ModelConfig?

    package init(tokens: TokenSequence, batch: Int, steps: Int) {
        self.tokens = tokens
        self.batch = max(1, batch)
        self.steps = max(1, steps)
    }

    /// Number of predictions scored: every symbol but the first.
    package var predictionCount: Int { max(0, tokens.count - 1) }

    /// Mean cross-entropy in nats per symbol over every prediction, or nil if there are none.
    /// Uses workspaces of its own, made on first use and kept.
    package func meanLoss(of model: CharModel) throws(ModelError) -> Double? {
        try meanLoss(of: model, halves: nil, threads: threads)
    }

    /// As ``meanLoss(of:)``, scoring the B segments in `halves` when given: workspaces of
    /// [⌈B/2⌉, T] and [⌊B/2⌋, T] (one of [1, T] when B = 1) for the model's config.
    func meanLoss(of model: CharModel, halves lent: [ModelWorkspace]?, threads: Int) throws(ModelError) -> Double? {
        let n = predictionCount
        guard n > 0 else { return nil }
        if config != model.config {
            ownHalves = []
            single = nil
            config = model.config
        }
        let segments = n >= batch ? batch : 1
        let length = n / segments
        let starts = (0..<segments).map { $0 * length }
        var total: Double
        if segments == batch {
            let workspaces: [ModelWorkspace]
            if let lent { workspaces = lent } else { workspaces = try halves(for: model.config) }
            total = try scoreInHalves(model, starts: starts, length: length, halves: workspaces, threads: threads)
        } else {
            total = try score(model, starts: starts, length: length, workspace: singleWorkspace(model.config))
        }
        let leftover = n - segments * length
        if leftover > 0 {
            total += try score(model, starts: [segments * length], length: leftover,
                                    workspace: singleWorkspace(model.config))
        }
        return total / Double(n)
    }

    private func scoreInHalves(_ model: CharModel, starts: [Int], length: Int,
                               halves: [ModelWorkspace], threads: Int) throws(ModelError) -> Double {
        guard halves.reduce(0, { $0 + $1.batch }) == starts.count, halves.allSatisfy({ $0.steps == steps }) else {
            throw .shapeMismatch("validation workspaces do not match \(starts.count) streams of \(steps) steps")
        }
        var parts: [(starts: [Int], workspace: ModelWorkspace)] = [], first = 0
        for workspace in halves {
            parts.append((Array(starts[first..<(first + workspace.batch)]), workspace))
            first += workspace.batch
        }
        let totals = try runHalves(parts, threads: threads) { (part) throws(ModelError) -> Double in
            try score(model, starts: part.starts, length: length, workspace: part.workspace)
        }
        return totals.reduce(0, +)
    }

    /// Sum of losses over `length` predictions from each start, streams side by side, in chunks of
    /// up to the workspace's steps (the last one shorter).
    private func score(_ model: CharModel, starts: [Int], length: Int,
                       workspace: ModelWorkspace) throws(ModelError) -> Double {
        let B = starts.count
        var state = RecurrentState(layers: model.config.layers, batch: B, hidden: model.config.hiddenSize)
        var inputs = [Int32](repeating: 0, count: B * workspace.steps), targets = inputs
        var total = 0.0
        var offset = 0
        while offset < length {
            let T = min(workspace.steps, length - offset)
            if inputs.count != B * T {
                inputs = [Int32](repeating: 0, count: B * T)
                targets = inputs
            }
            tokens.fillTimeMajor(starts: starts.map { $0 + offset }, steps: T, inputs: &inputs, targets: &targets)
            let mean = try model.forward(tokens: inputs, targets: targets, state: &state, workspace: workspace)!
            total += mean * Double(B * T)
            offset += T
        }
        return total
    }

    private func halves(for config: ModelConfig) throws(ModelError) -> [ModelWorkspace] {
        if ownHalves.isEmpty {
            for streams in streamHalves(batch: batch) {
                ownHalves.append(try ModelWorkspace(config: config, batch: streams.count, steps: steps))
            }
        }
        return ownHalves
    }

    private func singleWorkspace(_ config: ModelConfig) throws(ModelError) -> ModelWorkspace {
        if let single { return single }
        let made = try ModelWorkspace(config: config, batch: 1, steps: steps)
        single = made
        return made
    }
}

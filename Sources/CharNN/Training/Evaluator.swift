/// Mean loss over a whole token sequence (the validation split), in a fixed order, so every
/// evaluation of a run scores exactly the same predictions.
///
/// The n − 1 predictions are cut into B contiguous segments of L = (n − 1) / B, each read in chunks
/// of T with the state carried, as in training; the last partial chunk and the (n − 1) mod B
/// predictions left over run through batch-1 workspaces. Workspaces are made once per shape and
/// reused, never inside the loop.
public final class Evaluator {
    public let tokens: TokenSequence
    public let batch: Int
    public let steps: Int
    private var cache: [ShapeKey: Buffers] = [:]
    private var config: ModelConfig?
    /// Threads for the per-step recurrent products (1 or 2); the scores do not depend on it.
    public var threads = 1 {
        didSet { for buffers in cache.values { buffers.workspace.recurrentThreads = threads } }
    }

    private struct ShapeKey: Hashable { var batch: Int, steps: Int }

    /// A workspace and batch arrays for one shape, made on first use and kept.
    private final class Buffers {
        let workspace: ModelWorkspace
        var inputs: [Int32], targets: [Int32]
        init(_ workspace: ModelWorkspace) {
            self.workspace = workspace
            inputs = [Int32](repeating: 0, count: workspace.batch * workspace.steps)
            targets = inputs
        }
    }

    public init(tokens: TokenSequence, batch: Int, steps: Int) {
        self.tokens = tokens
        self.batch = max(1, batch)
        self.steps = max(1, steps)
    }

    /// Number of predictions scored: every symbol but the first.
    public var predictionCount: Int { max(0, tokens.count - 1) }

    /// Mean cross-entropy in nats per symbol over every prediction, or nil if there are none.
    public func meanLoss(of model: CharModel) throws(ModelError) -> Double? {
        let n = predictionCount
        guard n > 0 else { return nil }
        if config != model.config {
            cache = [:]
            config = model.config
        }
        let segments = n >= batch ? batch : 1
        let length = n / segments
        var total = try score(model, starts: (0..<segments).map { $0 * length }, length: length)
        let leftover = n - segments * length
        if leftover > 0 { total += try score(model, starts: [segments * length], length: leftover) }
        return total / Double(n)
    }

    /// Sum of losses over `length` predictions from each start, streams side by side.
    private func score(_ model: CharModel, starts: [Int], length: Int) throws(ModelError) -> Double {
        let B = starts.count
        var state = RecurrentState(layers: model.config.layers, batch: B, hidden: model.config.hiddenSize)
        var total = 0.0
        var offset = 0
        while offset < length {
            let T = min(steps, length - offset)
            let buffers = try self.buffers(model.config, batch: B, steps: T)
            tokens.fillTimeMajor(starts: starts.map { $0 + offset }, steps: T, inputs: &buffers.inputs,
                                 targets: &buffers.targets)
            let mean = try model.forward(tokens: buffers.inputs, targets: buffers.targets, state: &state, workspace: buffers.workspace)!
            total += mean * Double(B * T)
            offset += T
        }
        return total
    }

    private func buffers(_ config: ModelConfig, batch: Int, steps: Int) throws(ModelError) -> Buffers {
        let key = ShapeKey(batch: batch, steps: steps)
        if let cached = cache[key] { return cached }
        let made = Buffers(try ModelWorkspace(config: config, batch: batch, steps: steps))
        made.workspace.recurrentThreads = threads
        cache[key] = made
        return made
    }
}

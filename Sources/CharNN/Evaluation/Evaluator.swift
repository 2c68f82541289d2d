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
    package func meanLoss(of model: CharModel) throws -> Double? {
        try meanLoss(of: model, halves: nil, threads: threads)
    }

    /// As ``meanLoss(of:)``, scoring the B segments in `halves` when given: workspaces of
    /// [⌈B/2⌉, T] and [⌊B/2⌋, T] (one of [1, T] when B = 1) for the model's config.
    func meanLoss(of model: CharModel, halves lent: [ModelWorkspace]?, threads: Int) throws -> Double? {
        try score(of: model, halves: lent, threads: threads, sampleSymbols: nil)?.meanLoss
    }

    /// Scores the whole sequence, or with `sampleSymbols` a deterministic sample of about that
    /// many predictions: the first ⌊sampleSymbols / B⌋ predictions of each of the B segments the
    /// whole pass would score, so the sample is spread evenly over the sequence and is the same
    /// at every pass. A sample as large as the sequence scores all of it, exactly as without one.
    /// Nil when there is nothing to predict.
    ///
    /// Data-parallel (`group` of several ranks), each rank scores the segments of its `share` of
    /// the B streams in `lent` (its training halves), rank 0 the leftover too, and the sums meet
    /// in one allreduce: every rank gets the same score, the one a single process computes but for
    /// the order of the final additions.
    ///
    /// `isCancelled` is asked between chunks of T steps; once it returns true (and it must keep
    /// returning true), the pass stops early and throws ``ValidationCancelled``, on every rank if
    /// any rank saw it: a long pass over a large validation split must not hold up a Ctrl-C.
    package func score(of model: CharModel, halves lent: [ModelWorkspace]?, threads: Int,
               sampleSymbols: Int?, share: Range<Int>? = nil, group: ProcessGroup = .single,
               isCancelled: () -> Bool = { false }) throws -> ValidationScore? {
        let n = predictionCount
        guard n > 0 else { return nil }
        if config != model.config {
            ownHalves = []
            single = nil
            config = model.config
        }
        let segments = n >= batch ? batch : 1
        let segmentLength = n / segments
        let length = sampleSymbols.map { min(segmentLength, max(1, $0 / segments)) } ?? segmentLength
        let starts = (0..<segments).map { $0 * segmentLength }
        var segmentSums = [Double](repeating: 0, count: segments)
        var total: Double
        let share = segments == batch ? (share ?? 0..<segments) : 0..<segments
        let distributed = group.size > 1 && share != 0..<segments
        if segments == batch {
            let workspaces: [ModelWorkspace]
            if let lent { workspaces = lent } else { workspaces = try halves(for: model.config) }
            var shareSums = [Double](repeating: 0, count: share.count)
            total = try scoreInHalves(model, starts: Array(starts[share]), length: length, halves: workspaces,
                                      threads: threads, segmentSums: &shareSums, isCancelled: isCancelled)
            segmentSums.replaceSubrange(share, with: shareSums)
        } else {
            total = try scoreOneAtATime(model, starts: starts, length: length, segmentSums: &segmentSums,
                                        isCancelled: isCancelled)
        }
        var scored = segments * length
        // The remainder belongs to a whole pass only; a sample is the segments' beginnings.
        let leftover = length == segmentLength ? n - scored : 0
        if leftover > 0 && (!distributed || group.isRoot) {
            var ignored = [0.0]
            total += try scoreOneAtATime(model, starts: [scored], length: leftover, segmentSums: &ignored,
                                         isCancelled: isCancelled)
        }
        scored += leftover
        // Asked once more after the chunks: a stream that stopped early saw it true, and it stays true.
        var cancelled = isCancelled() ? 1.0 : 0.0
        if distributed {
            var sums = segmentSums + [total, cancelled]
            try group.sum(&sums)
            cancelled = sums.removeLast()
            total = sums.removeLast()
            segmentSums = sums
        } else if group.size > 1 {
            var flag = [cancelled]
            try group.maximum(&flag)
            cancelled = flag[0]
        }
        if cancelled != 0 { throw ValidationCancelled() }
        return ValidationScore(meanLoss: total / Double(scored),
                               standardError: Self.standardError(segmentSums: segmentSums, length: length),
                               predictions: scored, availablePredictions: n)
    }

    /// The standard error of the mean of the segments' mean losses (each over `length`
    /// predictions): their sample standard deviation over √segments, nil with fewer than two.
    /// The segments lie far apart in the text, so they are treated as independent draws.
    static func standardError(segmentSums: [Double], length: Int) -> Double? {
        let k = segmentSums.count
        guard k >= 2, length > 0 else { return nil }
        let means = segmentSums.map { $0 / Double(length) }
        let mean = means.reduce(0, +) / Double(k)
        let variance = means.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(k - 1)
        return (variance / Double(k)).squareRoot()
    }

    private func scoreInHalves(_ model: CharModel, starts: [Int], length: Int, halves: [ModelWorkspace], threads: Int,
                               segmentSums: inout [Double], isCancelled: () -> Bool) throws(ModelError) -> Double {
        guard halves.reduce(0, { $0 + $1.batch }) == starts.count, halves.allSatisfy({ $0.steps == steps }) else {
            throw .shapeMismatch("validation workspaces do not match \(starts.count) streams of \(steps) steps")
        }
        return try segmentSums.withUnsafeMutableBufferPointer { (sums) throws(ModelError) -> Double in
            // Each half writes its own streams' slots of `sums`: disjoint, so safe from two threads.
            var parts: [(starts: [Int], workspace: ModelWorkspace, sums: UnsafeMutableBufferPointer<Double>)] = []
            var first = 0
            for workspace in halves {
                let range = first..<(first + workspace.batch)
                parts.append((Array(starts[range]), workspace, UnsafeMutableBufferPointer(rebasing: sums[range])))
                first += workspace.batch
            }
            let totals = try runHalves(parts, threads: threads) { (part) throws(ModelError) -> Double in
                try score(model, starts: part.starts, length: length, workspace: part.workspace, segmentSums: part.sums,
                          isCancelled: isCancelled)
            }
            return totals.reduce(0, +)
        }
    }

    /// As `score(_:starts:length:workspace:segmentSums:isCancelled:)` in the batch-1 workspace
    /// (one start), with OpenBLAS held at one thread as the halves are (`runHalves`): its
    /// sums depend on its thread count, and a count another caller in the process had left set changed
    /// validation's bits from one pass to the next.
    private func scoreOneAtATime(_ model: CharModel, starts: [Int], length: Int, segmentSums: inout [Double],
                                 isCancelled: () -> Bool) throws(ModelError) -> Double {
        let workspace = try singleWorkspace(model.config)
        return try OpenBLASRuntime.withThreads(1) { () throws(ModelError) -> Double in
            try segmentSums.withUnsafeMutableBufferPointer { (sums) throws(ModelError) -> Double in
                try score(model, starts: starts, length: length, workspace: workspace, segmentSums: sums,
                          isCancelled: isCancelled)
            }
        }
    }

    /// Sum of losses over `length` predictions from each start, streams side by side, in chunks of
    /// up to the workspace's steps (the last one shorter). Each stream's own sum goes to `segmentSums`.
    /// Stops early, with a partial sum, once `isCancelled` returns true.
    private func score(_ model: CharModel, starts: [Int], length: Int, workspace: ModelWorkspace,
                       segmentSums: UnsafeMutableBufferPointer<Double>, isCancelled: () -> Bool) throws(ModelError) -> Double {
        let B = starts.count
        var state = RecurrentState(layers: model.config.layers, batch: B, hidden: model.config.hiddenSize)
        var inputs = [Int32](repeating: 0, count: B * workspace.steps), targets = inputs
        var total = 0.0
        var offset = 0
        while offset < length && !isCancelled() {
            let T = min(workspace.steps, length - offset)
            if inputs.count != B * T {
                inputs = [Int32](repeating: 0, count: B * T)
                targets = inputs
            }
            tokens.fillTimeMajor(starts: starts.map { $0 + offset }, steps: T, inputs: &inputs, targets: &targets)
            let mean = try model.forward(tokens: inputs, targets: targets, state: &state, workspace: workspace)!
            total += mean * Double(B * T)
            // The per-row losses of that forward, [T, B]: only for the spread between streams.
            for t in 0..<T {
                for b in 0..<B { segmentSums[b] += Double(workspace.rowLosses[t * B + b]) }
            }
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

/// One validation pass: the mean loss over the predictions scored, and how sure it is.
public struct ValidationScore: Sendable, Equatable {
    /// Mean cross-entropy in nats per symbol over the predictions scored.
    public var meanLoss: Double
    /// The standard error of ``meanLoss`` as an estimate of the loss on text like the scored
    /// text (from the spread between the B segments scored), or nil with a single segment.
    public var standardError: Double?
    /// Predictions scored: every one of the split's, or a sample of them.
    public var predictions: Int
    /// Predictions the whole split holds (its symbols but the first).
    public var availablePredictions: Int

    /// A score from its parts.
    public init(meanLoss: Double, standardError: Double?, predictions: Int, availablePredictions: Int) {
        self.meanLoss = meanLoss
        self.standardError = standardError
        self.predictions = predictions
        self.availablePredictions = availablePredictions
    }

    /// True when only part of the split was scored.
    public var isSample: Bool { predictions < availablePredictions }
}

/// Thrown by a validation pass that was asked to stop before its end; the pass has no score.
struct ValidationCancelled: Error {}

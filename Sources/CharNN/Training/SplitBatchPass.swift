import Dispatch

/// One training step's forward and backward pass with the B streams split into two halves, each
/// run through the whole model on its own core; the halves meet once per step, to add their
/// gradients.
///
/// Why not split each product between the cores instead: a step of the recurrent loop is one small
/// product and one cell kernel (at 2 × 128 and B = 50, 6.5 MFLOP, ≈ 30 µs), so handing half of each to
/// the other core 2·T·L times per update cost more than the work saved. Two half-batch passes share
/// nothing until the end; at 2 × 128 (B = 50) they trained 8–17 % faster than one pass with split
/// products, in alternating `charnn bench` pairs (docs/performance.md).
///
/// The split is fixed by B alone (streams 0..<⌈B/2⌉ and ⌈B/2⌉..<B), never by the thread count: with
/// one thread the halves run one after the other and compute exactly the same numbers, so a run
/// resumed with another `--threads` continues bit-identically. Each stream draws its dropout masks
/// from its own generator, seeded from one draw of the run's generator per step and the stream's
/// number, so its masks are the same however the batch is split.
///
/// Under data-parallel training each rank runs only its `share` of the B streams (split in two
/// halves the same way) and leaves the other streams of `carried` untouched; its gradient and loss
/// are its share's part of the batch's mean (weighted by B_h / B), so the ranks' sum is the mean.
final class SplitBatchPass {
    let batch: Int
    let steps: Int
    /// The streams this process runs: all B, or a rank's share of them.
    let share: Range<Int>
    private let halves: [Half]

    /// One half's buffers: its streams, their slice of the batch and state, and (second half only)
    /// its gradients; the first half writes into the caller's, so a split costs one gradient set.
    private final class Half {
        let streams: Range<Int>
        let workspace: ModelWorkspace
        var ownGradients: ParameterSet?
        var inputs: [Int32]
        var targets: [Int32]
        var state: RecurrentState
        var generators: [RandomGenerator]

        init(streams: Range<Int>, config: ModelConfig, steps: Int, ownGradients: Bool, locksDropoutOverTime: Bool) throws(ModelError) {
            self.streams = streams
            workspace = try ModelWorkspace(config: config, batch: streams.count, steps: steps)
            workspace.locksDropoutOverTime = locksDropoutOverTime
            self.ownGradients = ownGradients ? ParameterSet(zerosFor: ParameterLayout(config: config)) : nil
            inputs = [Int32](repeating: 0, count: streams.count * steps)
            targets = inputs
            state = RecurrentState(layers: config.layers, batch: streams.count, hidden: config.hiddenSize)
            generators = [RandomGenerator](repeating: RandomGenerator(seed: 0), count: streams.count)
        }
    }

    /// Buffers for batches of `batch` streams × `steps` steps of `config`, running the streams in
    /// `share` (all of them by default); a share of one stream is not split. With
    /// `locksDropoutOverTime`, each stream keeps one dropout mask for the T steps
    /// (``TrainingOptions/lockedDropout``).
    init(config: ModelConfig, batch: Int, steps: Int, share: Range<Int>? = nil, locksDropoutOverTime: Bool = false) throws(ModelError) {
        let share = share ?? 0..<batch
        guard !share.isEmpty, share.lowerBound >= 0, share.upperBound <= batch else {
            throw .shapeMismatch("streams \(share) are not a share of a batch of \(batch)")
        }
        self.batch = batch
        self.steps = steps
        self.share = share
        var halves: [Half] = []
        for (n, range) in streamHalves(batch: share.count).enumerated() {
            let streams = (range.lowerBound + share.lowerBound)..<(range.upperBound + share.lowerBound)
            halves.append(try Half(streams: streams, config: config, steps: steps, ownGradients: n > 0,
                                   locksDropoutOverTime: locksDropoutOverTime))
        }
        self.halves = halves
    }

    /// Stream b's dropout generator for the step whose draw from the run's generator is `seed`.
    static func streamGenerator(seed: UInt64, stream b: Int) -> RandomGenerator {
        // SplitMix64 seeding (RandomGenerator) scatters seeds that differ in any bit.
        RandomGenerator(seed: seed ^ (UInt64(b + 1) &* 0xD6E8_FEB8_6659_FD93))
    }

    /// The halves' workspaces, [B_h, T] each: idle between steps, so validation borrows them.
    var workspaces: [ModelWorkspace] { halves.map(\.workspace) }

    /// Runs `model` in training mode over the share's streams of `inputs` [T, B] from `carried`
    /// (left at the final step), writes the share's part of the gradient of the mean loss over all
    /// B·T symbols into `gradients` (overwriting it) and returns its part of that loss: the whole
    /// gradient and loss when the share is the whole batch. `threads` ≥ 2 runs the two halves at once.
    func run(model: CharModel, inputs: [Int32], targets: [Int32], carried: inout RecurrentState,
             rng: inout RandomGenerator, threads: Int, into gradients: inout ParameterSet) throws(ModelError) -> Double {
        let B = batch, T = steps
        guard inputs.count == B * T, targets.count == B * T, carried.batch == B else {
            throw .shapeMismatch("split batch pass is built for [\(T), \(B)]")
        }
        let seed = rng.next()
        for half in halves {
            for (j, b) in half.streams.enumerated() { half.generators[j] = Self.streamGenerator(seed: seed, stream: b) }
            copyStreams(half.streams, of: inputs, into: &half.inputs)
            copyStreams(half.streams, of: targets, into: &half.targets)
            half.state.load(streams: half.streams, of: carried)
        }
        let losses = try withUnsafeMutablePointer(to: &gradients) { (callerGradients) throws(ModelError) -> [Double] in
            try runHalves(halves, threads: threads) { (half) throws(ModelError) -> Double in
                let loss = try model.forwardTraining(
                    tokens: half.inputs, targets: half.targets, state: &half.state, workspace: half.workspace,
                    streamGenerators: &half.generators)
                if half.ownGradients == nil {
                    callerGradients.pointee.zero()
                    try model.backward(workspace: half.workspace, into: &callerGradients.pointee)
                } else {
                    half.ownGradients!.zero()
                    try model.backward(workspace: half.workspace, into: &half.ownGradients!)
                }
                return loss
            }
        }

        // Each half's loss and gradient are means over its own B_h·T symbols; the batch's are
        // their averages weighted by B_h / B.
        var loss = 0.0
        for (half, halfLoss) in zip(halves, losses) { loss += Double(half.streams.count) / Double(B) * halfLoss }
        for half in halves { half.state.store(streams: half.streams, into: &carried) }
        combineGradients(into: &gradients)
        return loss
    }

    private func copyStreams(_ streams: Range<Int>, of source: [Int32], into destination: inout [Int32]) {
        let width = streams.count
        for t in 0..<steps {
            for j in 0..<width { destination[t * width + j] = source[t * batch + streams.lowerBound + j] }
        }
    }

    /// gradients ← (B₀ / B) · gradients + (B₁ / B) · gradients₁, the first half's gradients
    /// being already in place.
    private func combineGradients(into gradients: inout ParameterSet) {
        let w0 = Float(halves[0].streams.count) / Float(batch)
        guard halves.count == 2, let second = halves[1].ownGradients else {
            // One half: the whole batch (weight 1, nothing to do), or a one-stream share of it.
            if w0 != 1 { gradients.values.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] *= w0 } } }
            return
        }
        let w1 = Float(halves[1].streams.count) / Float(batch)
        gradients.values.withUnsafeMutableBufferPointer { g0 in
            second.values.withUnsafeBufferPointer { g1 in
                for i in 0..<g0.count { g0[i] = w0 * g0[i] + w1 * g1[i] }
            }
        }
    }
}

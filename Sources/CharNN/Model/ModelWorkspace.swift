/// Every activation and gradient buffer one forward/backward pass needs, for one (batch, steps)
/// shape, allocated once in a single block (as llm.c does) and reused for every batch, so the
/// time loop never allocates.
///
/// A workspace belongs to one thread at a time; it is a reference type because it is scratch
/// memory, not a value anyone should copy.
public final class ModelWorkspace {
    /// The shape of the model the workspace was sized for.
    public let config: ModelConfig
    /// Number of parallel streams B.
    public let batch: Int
    /// Number of time steps T per forward pass.
    public let steps: Int

    let tokens: UnsafeMutablePointer<Int32>   // [T, B]
    let targets: UnsafeMutablePointer<Int32>  // [T, B]
    private let storage: UnsafeMutablePointer<Float>
    private let storageCount: Int

    let vocabularyGates: UnsafeMutablePointer<Float> // [V, G·H]: layer 0's input projection per symbol, then its gradient
    let layers: [RecurrentActivations]              // per layer
    let dropoutMasks: [UnsafeMutablePointer<Float>] // per layer [T, B, H], when dropout > 0
    let dropped: [UnsafeMutablePointer<Float>]      // per layer [T, B, H], when dropout > 0
    let logits: UnsafeMutablePointer<Float>         // [T, B, V]; dLoss/dLogits after the loss
    let rowLosses: UnsafeMutablePointer<Float>      // [T, B]
    let gradient: UnsafeMutablePointer<Float>       // [T, B, H]: dLoss/d(layer output), then d(layer input)
    let stateGradientH: UnsafeMutablePointer<Float> // [L, B, H]: dLoss/dh0 after backward
    let stateGradientC: UnsafeMutablePointer<Float> // [L, B, H]: dLoss/dc0 after backward (zero outside the LSTM)
    let biasScratch: UnsafeMutablePointer<Float>    // [G·H]
    let ones: UnsafeMutablePointer<Float>           // [max(T·B, 1)]
    let packedRecurrent: [PackedRecurrentWeights]   // per layer, when packed (PackedGEMM.isSupported); else OpenBLAS

    /// Threads for the per-step recurrent products and cell kernels (1 or 2); the results do not
    /// depend on it. charnn's training and validation keep 1: they run two half-batch passes, each
    /// on its own core (SplitBatchPass, Evaluator).
    public var recurrentThreads = 1

    /// Training forward passes draw one dropout mask per stream for the whole chunk of T steps
    /// (locked, or variational, dropout) instead of one per step: set from the run's
    /// ``TrainingOptions/lockedDropout``. Inference and validation use no dropout either way.
    package var locksDropoutOverTime = false

    /// For tests only: per layer, which units [T, B, H] training forward passes drop, instead of
    /// drawing them, so charnn can be checked against a reference that dropped the same units
    /// (LSTMReferenceTests). The kept ones are scaled as in training. nil, as in all of charnn,
    /// draws them.
    package var fixedDropouts: [[Bool]]?

    /// Steps of the last forward pass (at most `steps`).
    var activeSteps: Int
    /// What the last forward pass did, so backward knows what it may use.
    var lastForwardHadTargets = false
    var lastForwardUsedDropout = false
    /// Set by backward, which overwrites the gates with their gradients.
    var activationsConsumed = false

    /// Allocates the buffers for `batch` streams of up to `steps` symbols of a model shaped `config`.
    /// Throws ``ModelError/invalidConfig(_:)`` for a bad config and ``ModelError/shapeMismatch(_:)``
    /// when `batch` or `steps` is below 1.
    public convenience init(config: ModelConfig, batch: Int, steps: Int) throws(ModelError) {
        try self.init(config: config, batch: batch, steps: steps, packsRecurrentWeights: PackedGEMM.isSupported)
    }

    /// As ``init(config:batch:steps:)``, choosing the recurrent product's path: the packed kernel
    /// (in whichever variant the calling thread runs) or OpenBLAS. Tests run both on one host.
    package init(config: ModelConfig, batch: Int, steps: Int, packsRecurrentWeights: Bool) throws(ModelError) {
        try config.validate()
        guard batch >= 1, steps >= 1 else {
            throw .shapeMismatch("batch and steps must be at least 1, got \(batch) and \(steps)")
        }
        self.config = config
        self.batch = batch
        self.steps = steps
        activeSteps = steps
        let N = batch * steps, B = batch
        let H = config.hiddenSize, V = config.vocabularySize, L = config.layers
        let useDropout = config.dropout > 0, cell = config.cell, G = config.gateRows
        let perLayer = RecurrentActivations.count(cell: cell, rows: N, batch: B, hidden: H) + (useDropout ? 2 * N * H : 0)
        let packedEach = packsRecurrentWeights ? PackedRecurrentWeights.count(hidden: H, gateRows: G) : 0
        storageCount = V * G + L * perLayer + N * V + N + N * H + 2 * L * B * H + G + N + L * packedEach
        storage = .allocate(capacity: storageCount)
        storage.initialize(repeating: 0, count: storageCount)
        tokens = .allocate(capacity: N)
        tokens.initialize(repeating: 0, count: N)
        targets = .allocate(capacity: N)
        targets.initialize(repeating: 0, count: N)

        var cursor = storage
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { cursor += count }
            return cursor
        }
        vocabularyGates = take(V * G)
        var layers: [RecurrentActivations] = [], masks: [UnsafeMutablePointer<Float>] = []
        var dropped: [UnsafeMutablePointer<Float>] = []
        for _ in 0..<L {
            layers.append(RecurrentActivations(
                gates: take(N * G), hidden: take((N + B) * H), cell: take(cell == .lstm ? (N + B) * H : 0),
                hiddenGates: take(cell == .gru ? N * G : 0)))
            if useDropout {
                masks.append(take(N * H))
                dropped.append(take(N * H))
            }
        }
        self.layers = layers
        self.dropoutMasks = masks
        self.dropped = dropped
        logits = take(N * V)
        rowLosses = take(N)
        gradient = take(N * H)
        stateGradientH = take(L * B * H)
        stateGradientC = take(L * B * H)
        biasScratch = take(G)
        ones = take(N)
        ones.update(repeating: 1, count: N)
        packedRecurrent = packsRecurrentWeights ? (0..<L).map { _ in
            PackedRecurrentWeights(buffer: take(packedEach), threads: 1)
        } : []
        precondition(cursor == storage + storageCount, "workspace layout out of step with its size")
    }

    deinit {
        storage.deallocate()
        tokens.deallocate()
        targets.deallocate()
    }

    /// Bytes held by this workspace's buffers.
    public var byteCount: Int { storageCount * MemoryLayout<Float>.stride + 2 * batch * steps * 4 }

    /// Layer k's packed recurrent weights with the current thread count, or nil to use BLAS (also
    /// on a thread whose forced variant has no fast packed kernel).
    func packed(_ k: Int) -> PackedRecurrentWeights? {
        guard k < packedRecurrent.count, PackedGEMM.isFastOnThisThread else { return nil }
        var p = packedRecurrent[k]
        p.threads = recurrentThreads
        return p
    }

    /// The output of recurrent layer k as the next layer (or the head) sees it: after dropout if on.
    func layerOutput(_ k: Int) -> UnsafeMutablePointer<Float> {
        lastForwardUsedDropout ? dropped[k] : layers[k].hidden + batch * config.hiddenSize
    }
}

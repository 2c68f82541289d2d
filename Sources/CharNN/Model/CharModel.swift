/// A character-level language model: embedding → stacked recurrent layers (LSTM, GRU or RNN, the
/// config's ``ModelConfig/cell``) → dropout → linear head.
///
/// The weights are a value (``ParameterSet``); running the model needs a ``ModelWorkspace`` sized
/// for the batch, which holds the activations that ``backward(workspace:into:)`` consumes. Token
/// arrays are time-major, [T, B]: element `t * B + b` is step t of stream b.
public struct CharModel: Sendable, Equatable {
    /// The model's shape.
    public let config: ModelConfig
    /// Every weight and bias, in the layout of ``config``.
    public var parameters: ParameterSet

    /// A freshly initialized model (see ``ParameterSet/initialized(for:using:)``).
    public init(config: ModelConfig, seed: UInt64) throws(ModelError) {
        try config.validate()
        var rng = RandomGenerator(seed: seed)
        self.config = config
        self.parameters = .initialized(for: config, using: &rng)
    }

    /// A model with the given weights, whose layout must match the config.
    public init(config: ModelConfig, parameters: ParameterSet) throws(ModelError) {
        try config.validate()
        guard parameters.layout == ParameterLayout(config: config) else {
            throw .shapeMismatch("parameters do not match the model configuration")
        }
        self.config = config
        self.parameters = parameters
    }

    /// Runs the model without dropout over `tokens` [T, B] from `state`, leaving `state` at the
    /// final step. Returns the mean cross-entropy against `targets` [T, B] when they are given;
    /// the logits (or, with targets, their gradient) stay in the workspace for ``backward(workspace:into:)``.
    /// T may be less than the workspace's `steps` (its first T steps are used), so one workspace
    /// also serves the shorter last chunk of a sequence.
    @discardableResult
    public func forward(
        tokens: [Int32], targets: [Int32]? = nil, state: inout RecurrentState, workspace: ModelWorkspace
    ) throws(ModelError) -> Double? {
        try run(tokens: tokens, targets: targets, state: &state, workspace: workspace, rng: nil, generators: 0)
    }

    /// As ``forward(tokens:targets:state:workspace:)`` but in training mode: dropout masks are
    /// drawn from `rng` when the config's dropout is above 0.
    public func forwardTraining(
        tokens: [Int32], targets: [Int32], state: inout RecurrentState, workspace: ModelWorkspace,
        rng: inout RandomGenerator
    ) throws(ModelError) -> Double {
        try withUnsafeMutablePointer(to: &rng) { (pointer) throws(ModelError) -> Double in
            try run(tokens: tokens, targets: targets, state: &state, workspace: workspace, rng: pointer, generators: 1)!
        }
    }

    /// As ``forwardTraining(tokens:targets:state:workspace:rng:)`` with one generator per stream:
    /// stream b's dropout masks come from `streamGenerators[b]` alone, so they do not depend on
    /// which other streams share its batch (a split batch, or another rank's share of it).
    func forwardTraining(
        tokens: [Int32], targets: [Int32], state: inout RecurrentState, workspace: ModelWorkspace,
        streamGenerators: inout [RandomGenerator]
    ) throws(ModelError) -> Double {
        guard streamGenerators.count == workspace.batch else {
            throw .shapeMismatch("expected \(workspace.batch) stream generators, got \(streamGenerators.count)")
        }
        return try streamGenerators.withUnsafeMutableBufferPointer { (pointer) throws(ModelError) -> Double in
            try run(tokens: tokens, targets: targets, state: &state, workspace: workspace, rng: pointer.baseAddress!,
                    generators: pointer.count)!
        }
    }

    private func run(
        tokens: [Int32], targets: [Int32]?, state: inout RecurrentState, workspace ws: ModelWorkspace,
        rng: UnsafeMutablePointer<RandomGenerator>?, generators: Int
    ) throws(ModelError) -> Double? {
        let B = ws.batch, T = tokens.count / B, N = B * T
        let E = config.embeddingSize, H = config.hiddenSize, V = config.vocabularySize, cell = config.cell
        guard ws.config == config else { throw .shapeMismatch("workspace was built for another model") }
        guard tokens.count == N, (1...ws.steps).contains(T) else {
            throw .shapeMismatch("expected [T, \(B)] tokens with T from 1 to \(ws.steps), got \(tokens.count)")
        }
        guard state.layers == config.layers, state.batch == B, state.hidden == H else {
            throw .shapeMismatch("state is [\(state.layers), \(state.batch), \(state.hidden)], model needs [\(config.layers), \(B), \(H)]")
        }
        try copyTokens(tokens, into: ws.tokens)
        if let targets {
            guard targets.count == N else { throw .shapeMismatch("expected \(N) targets, got \(targets.count)") }
            try copyTokens(targets, into: ws.targets)
        }
        ws.activeSteps = T
        ws.lastForwardHadTargets = targets != nil
        ws.activationsConsumed = false
        ws.lastForwardUsedDropout = rng != nil && config.dropout > 0

        let layout = parameters.layout
        return parameters.values.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            var input: UnsafePointer<Float>? = nil  // layer 0 reads the vocabulary table instead
            for k in 0..<config.layers {
                let act = ws.layers[k]
                if k == 0 {
                    embeddingProjectionForward(
                        gates: act.gates, tokens: ws.tokens, count: N, table: p + layout.embedding.offset,
                        weightIH: p + layout.weightIH[0].offset, biasIH: p + layout.biasIH[0].offset,
                        biasHH: cell == .gru ? nil : p + layout.biasHH[0].offset,
                        vocabularyGates: ws.vocabularyGates, vocabulary: V, embedding: E, gateRows: config.gateRows)
                }
                state.h.withUnsafeBufferPointer { act.hidden.update(from: $0.baseAddress! + k * B * H, count: B * H) }
                let weights = layerWeights(p, layout, k), I = config.inputSize(ofLayer: k)
                switch cell {
                case .lstm:
                    state.c.withUnsafeBufferPointer { act.cell.update(from: $0.baseAddress! + k * B * H, count: B * H) }
                    lstmForward(
                        x: input, weights: weights, act: act, biasScratch: ws.biasScratch,
                        packed: ws.packed(k), steps: T, batch: B, input: I, hidden: H)
                    state.c.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: k * B * H).update(from: act.cell + N * H, count: B * H) }
                case .gru:
                    gruForward(x: input, weights: weights, act: act, packed: ws.packed(k), steps: T, batch: B, input: I, hidden: H)
                case .rnn:
                    rnnForward(x: input, weights: weights, act: act, biasScratch: ws.biasScratch, packed: ws.packed(k),
                               steps: T, batch: B, input: I, hidden: H)
                }
                state.h.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: k * B * H).update(from: act.hidden + N * H, count: B * H) }
                if ws.lastForwardUsedDropout, let fixed = ws.fixedDropouts?[k] {
                    precondition(fixed.count == N * H, "fixed dropouts must be [T, B, H]")
                    dropoutForward(out: ws.dropped[k], mask: ws.dropoutMasks[k], x: act.hidden + B * H, count: N * H,
                                   probability: config.dropout, dropped: fixed)
                } else if ws.lastForwardUsedDropout, let rng {
                    if ws.locksDropoutOverTime {
                        lockedDropoutForward(
                            out: ws.dropped[k], mask: ws.dropoutMasks[k], x: act.hidden + B * H, steps: T, batch: B, width: H,
                            probability: config.dropout, generators: rng, count: generators)
                    } else {
                        dropoutForward(
                            out: ws.dropped[k], mask: ws.dropoutMasks[k], x: act.hidden + B * H, rows: N, width: H,
                            probability: config.dropout, generators: rng, count: generators)
                    }
                }
                input = UnsafePointer(ws.layerOutput(k))
            }
            headForward(
                logits: ws.logits, y: input!, weight: p + layout.headWeight.offset, bias: p + layout.headBias.offset,
                rows: N, hidden: H, vocabulary: V)
            guard targets != nil else { return nil }
            return crossEntropyForwardBackward(
                logits: ws.logits, targets: ws.targets, rowLosses: ws.rowLosses, rows: N, vocabulary: V)
        }
    }

    /// Backpropagates the loss of the last ``forwardTraining(tokens:targets:state:workspace:rng:)``
    /// (or ``forward(tokens:targets:state:workspace:)`` with targets) run in
    /// `workspace`, adding every parameter's gradient into `gradients` (zero it first for a fresh
    /// step). The gradient reaching the initial state is kept in the workspace. Backward consumes
    /// the forward pass's activations (it reuses their memory), so each backward needs its own forward.
    public func backward(workspace ws: ModelWorkspace, into gradients: inout ParameterSet) throws(ModelError) {
        guard ws.config == config, ws.lastForwardHadTargets, !ws.activationsConsumed else {
            throw .shapeMismatch("backward needs a forward pass with targets in this workspace")
        }
        guard gradients.layout == parameters.layout else { throw .shapeMismatch("gradient layout differs from the model's") }
        let B = ws.batch, T = ws.activeSteps, N = B * T
        let H = config.hiddenSize, V = config.vocabularySize, L = config.layers
        let layout = parameters.layout
        parameters.values.withUnsafeBufferPointer { buffer in
            gradients.values.withUnsafeMutableBufferPointer { gradBuffer in
                let p = buffer.baseAddress!, g = gradBuffer.baseAddress!
                // One buffer carries the gradient down the stack: each layer reads its output's
                // gradient inside its time loop and writes its input's gradient after it.
                let dOut = ws.gradient
                headBackward(
                    dy: dOut, dWeight: g + layout.headWeight.offset, dBias: g + layout.headBias.offset, dLogits: ws.logits,
                    y: ws.layerOutput(L - 1), weight: p + layout.headWeight.offset, ones: ws.ones,
                    rows: N, hidden: H, vocabulary: V)
                for k in stride(from: L - 1, through: 0, by: -1) {
                    if ws.lastForwardUsedDropout { dropoutBackward(d: dOut, mask: ws.dropoutMasks[k], count: N * H) }
                    let dh = ws.stateGradientH + k * B * H, dc = ws.stateGradientC + k * B * H
                    dh.update(repeating: 0, count: B * H)
                    dc.update(repeating: 0, count: B * H)
                    let x = k == 0 ? nil : UnsafePointer(ws.layerOutput(k - 1))
                    let weights = layerWeights(p, layout, k), grads = layerGradients(g, layout, k)
                    let I = config.inputSize(ofLayer: k)
                    switch config.cell {
                    case .lstm:
                        lstmBackward(
                            dx: dOut, dOut: dOut, x: x, weights: weights, grads: grads, act: ws.layers[k], dh: dh, dc: dc,
                            ones: ws.ones, packed: ws.packed(k), steps: T, batch: B, input: I, hidden: H)
                    case .gru:
                        gruBackward(
                            dx: dOut, dOut: dOut, x: x, weights: weights, grads: grads, act: ws.layers[k], dh: dh,
                            ones: ws.ones, packed: ws.packed(k), steps: T, batch: B, input: I, hidden: H)
                    case .rnn:
                        rnnBackward(
                            dx: dOut, dOut: dOut, x: x, weights: weights, grads: grads, act: ws.layers[k], dh: dh,
                            ones: ws.ones, packed: ws.packed(k), steps: T, batch: B, input: I, hidden: H)
                    }
                }
                // The GRU's b_hh is not in the symbol table: gruBackward formed its gradient.
                embeddingProjectionBackward(
                    dGates: ws.layers[0].gates, tokens: ws.tokens, count: N, table: p + layout.embedding.offset,
                    weightIH: p + layout.weightIH[0].offset, dTable: g + layout.embedding.offset, dWeightIH: g + layout.weightIH[0].offset,
                    dBiasIH: g + layout.biasIH[0].offset, dBiasHH: config.cell == .gru ? nil : g + layout.biasHH[0].offset,
                    vocabularyGates: ws.vocabularyGates, vocabulary: V, embedding: config.embeddingSize, gateRows: config.gateRows)
                ws.activationsConsumed = true
            }
        }
    }

    /// dLoss/d(embedded input) [T, B, E] after the last ``backward(workspace:into:)`` in
    /// `workspace`, or nil before one. Training never needs it position by position (the embedding
    /// gradient is formed per symbol), so it is formed here on request: dGates₀ · W_ih of layer 0.
    public func inputGradient(workspace ws: ModelWorkspace) -> [Float]? {
        guard ws.config == config, ws.activationsConsumed else { return nil }
        let N = ws.batch * ws.activeSteps, E = config.embeddingSize
        var dx = [Float](repeating: 0, count: N * E)
        parameters.values.withUnsafeBufferPointer { p in
            dx.withUnsafeMutableBufferPointer { out in
                BLAS.gemm(m: N, n: E, k: config.gateRows, ws.layers[0].gates,
                          p.baseAddress! + parameters.layout.weightIH[0].offset, into: out.baseAddress!)
            }
        }
        return dx
    }

    private func copyTokens(_ source: [Int32], into destination: UnsafeMutablePointer<Int32>) throws(ModelError) {
        let V = config.vocabularySize
        for (n, token) in source.enumerated() {
            guard token >= 0 && Int(token) < V else { throw .tokenOutOfRange(token: token, vocabularySize: V) }
            destination[n] = token
        }
    }

    private func layerWeights(_ p: UnsafePointer<Float>, _ o: ParameterLayout, _ k: Int) -> RecurrentWeights<UnsafePointer<Float>> {
        RecurrentWeights(weightIH: p + o.weightIH[k].offset, weightHH: p + o.weightHH[k].offset, biasIH: p + o.biasIH[k].offset, biasHH: p + o.biasHH[k].offset)
    }

    private func layerGradients(_ g: UnsafeMutablePointer<Float>, _ o: ParameterLayout, _ k: Int) -> RecurrentWeights<UnsafeMutablePointer<Float>> {
        RecurrentWeights(weightIH: g + o.weightIH[k].offset, weightHH: g + o.weightHH[k].offset, biasIH: g + o.biasIH[k].offset, biasHH: g + o.biasHH[k].offset)
    }
}

extension ModelWorkspace {
    /// The logits of the last forward pass without targets, [T, B, V] (after a pass with
    /// targets the buffer holds their gradient instead).
    public func logitsCopy() -> [Float] {
        Array(UnsafeBufferPointer(start: logits, count: batch * activeSteps * config.vocabularySize))
    }

    /// dLoss/dh0 and dLoss/dc0 of every layer after the last backward, [L, B, H] each (c's all
    /// zero for the GRU and RNN, which have no cell state).
    public func initialStateGradient() -> (h: [Float], c: [Float]) {
        let count = config.layers * batch * config.hiddenSize
        return (Array(UnsafeBufferPointer(start: stateGradientH, count: count)),
                Array(UnsafeBufferPointer(start: stateGradientC, count: count)))
    }

}

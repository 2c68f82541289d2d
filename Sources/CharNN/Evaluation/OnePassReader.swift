/// Reads one token stream from its start with the state carried, the way a language model's loss is
/// defined: the state starts at zero, the first symbol is context only, and every later symbol is
/// predicted from all before it, so n symbols give n − 1 predictions.
///
/// Tokens may arrive in any number of pieces (``read(_:)``); they are scored in chunks of T steps
/// through a [1, T] workspace with the state carried from chunk to chunk, so memory stays flat
/// whatever the text's length, and the sum does not depend on where the pieces were cut. Within a
/// chunk the input projection and the head run as matrix products over all T steps; only the
/// recurrence is per step.
final class OnePassReader {
    let model: CharModel
    private let workspace: ModelWorkspace
    private var state: RecurrentState
    // Inputs and targets of the chunk being filled, allocated once at T steps; only the text's
    // last, shorter chunk needs arrays of its own length.
    private var inputs: [Int32]
    private var targets: [Int32]
    private var filled = 0
    /// The last symbol read: the input of the next prediction.
    private var previous: Int32?
    /// Summed negative log-likelihood (nats) and number of predictions so far.
    private(set) var totalNats = 0.0
    private(set) var predictions = 0

    init(model: CharModel, steps: Int, threads: Int = 1) throws(ModelError) {
        self.model = model
        workspace = try ModelWorkspace(config: model.config, batch: 1, steps: max(1, steps))
        // Batch 1 leaves the second core idle; the recurrent products may use it (the result does
        // not depend on the thread count).
        workspace.recurrentThreads = min(2, max(1, threads))
        state = RecurrentState(layers: model.config.layers, batch: 1, hidden: model.config.hiddenSize)
        inputs = [Int32](repeating: 0, count: workspace.steps)
        targets = inputs
    }

    /// Reads the next symbols of the stream, scoring every full chunk.
    func read(_ ids: some Sequence<Int32>) throws(ModelError) {
        for id in ids {
            if let previous {
                inputs[filled] = previous
                targets[filled] = id
                filled += 1
                if filled == workspace.steps { try flush() }
            }
            previous = id
        }
    }

    /// Scores the predictions still waiting in a partial chunk. Call once, after the last piece.
    func finish() throws(ModelError) {
        guard filled > 0 else { return }
        inputs.removeLast(inputs.count - filled)
        targets.removeLast(targets.count - filled)
        try flush()
    }

    private func flush() throws(ModelError) {
        let mean = try model.forward(tokens: inputs, targets: targets, state: &state, workspace: workspace)!
        totalNats += mean * Double(filled)
        predictions += filled
        filled = 0
    }
}

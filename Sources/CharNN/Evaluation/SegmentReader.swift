/// An approximation of ``OnePassReader`` that is faster on long texts: the predictions of each
/// piece of the text are cut into N contiguous segments scored side by side (batch N), plus the
/// N-th part left over, scored alone. A segment cannot carry the state of the one before it (they
/// run at once), so each starts from a zero state W symbols before its first prediction and reads
/// those W symbols unscored (the warm-up; fewer at the text's start, where the zero state is
/// exact). W = 0 is a cold start for every segment. The loss is slightly above the one-pass loss,
/// by less as W grows.
final class SegmentReader {
    let model: CharModel
    let streams: Int
    let warmup: Int
    private let batched: ModelWorkspace  // [N, T]
    private let single: ModelWorkspace   // [1, T]: warm-ups and the part left over
    // Time-major chunk buffers for each workspace, allocated once; a piece's shorter last chunk
    // gets arrays of its own length.
    private var batchedInputs: [Int32], batchedTargets: [Int32]
    private var singleInputs: [Int32], singleTargets: [Int32]
    /// The last W + 1 symbols read: the warm-up and first input of the next piece's first segment.
    private var tail: [Int32] = []
    private(set) var totalNats = 0.0
    private(set) var predictions = 0

    init(model: CharModel, streams: Int, warmup: Int, steps: Int) throws(ModelError) {
        self.model = model
        self.streams = max(1, streams)
        self.warmup = max(0, warmup)
        batched = try ModelWorkspace(config: model.config, batch: self.streams, steps: max(1, steps))
        single = try ModelWorkspace(config: model.config, batch: 1, steps: max(1, steps))
        batchedInputs = [Int32](repeating: 0, count: self.streams * batched.steps)
        batchedTargets = batchedInputs
        singleInputs = [Int32](repeating: 0, count: single.steps)
        singleTargets = singleInputs
    }

    /// Scores the next piece of the text; every symbol but the text's first is predicted once.
    func read(_ piece: [Int32]) throws(ModelError) {
        let ids = tail + piece
        // The text's first symbol is context only; later pieces start after the kept tail.
        let first = max(1, tail.count)
        if ids.count > first { try score(ids, from: first) }
        tail = Array(ids.suffix(warmup + 1))
    }

    /// Scores the predictions of ids[first...], each from the symbol before it.
    private func score(_ ids: [Int32], from first: Int) throws(ModelError) {
        let count = ids.count - first, length = count / streams
        let config = model.config
        if length > 0 {
            // Segment s predicts ids[first + s·L ..< first + (s + 1)·L]; its first input is one before.
            let starts = (0..<streams).map { first - 1 + $0 * length }
            var state = RecurrentState(layers: config.layers, batch: streams, hidden: config.hiddenSize)
            for (s, start) in starts.enumerated() {
                let warm = try warmedState(ids, before: start)
                for k in 0..<config.layers {
                    let to = (k * streams + s) * config.hiddenSize, from = k * config.hiddenSize
                    state.h[to..<(to + config.hiddenSize)] = warm.h[from..<(from + config.hiddenSize)]
                    state.c[to..<(to + config.hiddenSize)] = warm.c[from..<(from + config.hiddenSize)]
                }
            }
            totalNats += try run(ids, starts: starts, length: length, state: &state, workspace: batched,
                                 inputs: &batchedInputs, targets: &batchedTargets)
        }
        let left = count - streams * length
        if left > 0 {
            let start = first - 1 + streams * length
            var state = try warmedState(ids, before: start)
            totalNats += try run(ids, starts: [start], length: left, state: &state, workspace: single,
                                 inputs: &singleInputs, targets: &singleTargets)
        }
        predictions += count
    }

    /// The state after reading ids[start − W ..< start] (from 0 when start < W) from a zero state.
    private func warmedState(_ ids: [Int32], before start: Int) throws(ModelError) -> RecurrentState {
        var state = RecurrentState(layers: model.config.layers, batch: 1, hidden: model.config.hiddenSize)
        var position = max(0, start - warmup)
        while position < start {
            let steps = min(single.steps, start - position)
            if singleInputs.count != steps { singleInputs = [Int32](repeating: 0, count: steps) }
            for t in 0..<steps { singleInputs[t] = ids[position + t] }
            try model.forward(tokens: singleInputs, state: &state, workspace: single)
            position += steps
        }
        return state
    }

    /// Summed loss of `length` predictions per stream, stream b reading from ids[starts[b]], in
    /// time-major chunks of up to the workspace's steps with the state carried.
    private func run(_ ids: [Int32], starts: [Int], length: Int, state: inout RecurrentState,
                     workspace: ModelWorkspace, inputs: inout [Int32], targets: inout [Int32]) throws(ModelError) -> Double {
        let B = starts.count
        var total = 0.0, offset = 0
        while offset < length {
            let steps = min(workspace.steps, length - offset)
            // The warm-up may have resized the single workspace's inputs alone.
            if inputs.count != B * steps || targets.count != B * steps {
                inputs = [Int32](repeating: 0, count: B * steps)
                targets = inputs
            }
            for t in 0..<steps {
                for (b, start) in starts.enumerated() {
                    inputs[t * B + b] = ids[start + offset + t]
                    targets[t * B + b] = ids[start + offset + t + 1]
                }
            }
            total += try model.forward(tokens: inputs, targets: targets, state: &state, workspace: workspace)! * Double(B * steps)
            offset += steps
        }
        return total
    }
}

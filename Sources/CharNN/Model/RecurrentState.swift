/// The hidden and cell state of every LSTM layer for each of B streams, carried between batches
/// in truncated backpropagation through time and between symbols when sampling.
public struct RecurrentState: Sendable, Equatable, Codable {
    /// Number of LSTM layers.
    public let layers: Int
    /// Number of streams B.
    public let batch: Int
    /// Units per layer H.
    public let hidden: Int
    /// h for each layer and stream, [layers, batch, hidden] (PyTorch's h_n layout).
    public var h: [Float]
    /// c for each layer and stream, [layers, batch, hidden].
    public var c: [Float]

    /// The all-zero state a new stream starts from.
    public init(layers: Int, batch: Int, hidden: Int) {
        self.layers = layers
        self.batch = batch
        self.hidden = hidden
        h = [Float](repeating: 0, count: layers * batch * hidden)
        c = h
    }

    /// A state with the given h and c, each [layers, batch, hidden]; throws
    /// ``ModelError/shapeMismatch(_:)`` when either has another count.
    public init(layers: Int, batch: Int, hidden: Int, h: [Float], c: [Float]) throws(ModelError) {
        let count = layers * batch * hidden
        guard h.count == count, c.count == count else {
            throw .shapeMismatch("recurrent state needs \(count) values for h and c ([\(layers), \(batch), \(hidden)])")
        }
        self.layers = layers
        self.batch = batch
        self.hidden = hidden
        self.h = h
        self.c = c
    }

    /// Zeroes h and c of one stream in every layer, e.g. when it wraps to a new epoch.
    public mutating func reset(stream b: Int) {
        for k in 0..<layers {
            let start = (k * batch + b) * hidden
            for j in start..<(start + hidden) {
                h[j] = 0
                c[j] = 0
            }
        }
    }
}

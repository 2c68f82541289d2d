/// The shape of a charnn model: embedding → `layers` stacked recurrent layers (LSTM, GRU or RNN)
/// of `hiddenSize` units → dropout → linear head over the vocabulary.
public struct ModelConfig: Codable, Sendable, Equatable, Hashable {
    /// The recurrent cell of every layer.
    public var cell: RecurrentCell
    /// Number of symbols in the vocabulary (the embedding's rows and the head's outputs).
    public var vocabularySize: Int
    /// Width of each symbol's embedding vector, the first recurrent layer's input size.
    public var embeddingSize: Int
    /// Units per recurrent layer.
    public var hiddenSize: Int
    /// Number of stacked recurrent layers.
    public var layers: Int
    /// Probability of zeroing each recurrent layer's output during training (0 turns dropout off).
    public var dropout: Float

    /// A configuration from its fields; dropout defaults to 0 and the cell to the LSTM. Nothing is
    /// checked until ``validate()``.
    public init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int, dropout: Float = 0,
                cell: RecurrentCell = .lstm) {
        self.cell = cell
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.dropout = dropout
    }

    /// Input width of recurrent layer `k`: the embedding for the first, the layer below's output after.
    public func inputSize(ofLayer k: Int) -> Int { k == 0 ? embeddingSize : hiddenSize }

    /// Rows of each layer's weights: the cell's gate count × H.
    public var gateRows: Int { cell.gateCount * hiddenSize }

    /// Entries of the matrices one step multiplies through: each layer's [gates·H, in + H] and the
    /// head's [V, H] (the embedding is a lookup; biases are not products). A forward step costs
    /// twice this in FLOPs and, at batch 1, reads each of these weights once.
    public var matrixWeightCount: Int { ParameterLayout(config: self).matrixWeightCount }

    /// Every weight and bias of the model: the length of its flat parameter buffer.
    public var parameterCount: Int { ParameterLayout(config: self).totalCount }

    /// Throws a ``ModelError/invalidConfig(_:)`` naming the first field out of range.
    public func validate() throws(ModelError) {
        if vocabularySize < 1 { throw .invalidConfig("vocabulary size must be at least 1, got \(vocabularySize)") }
        if embeddingSize < 1 { throw .invalidConfig("embedding size must be at least 1, got \(embeddingSize)") }
        if hiddenSize < 1 { throw .invalidConfig("hidden size must be at least 1, got \(hiddenSize)") }
        if layers < 1 { throw .invalidConfig("layer count must be at least 1, got \(layers)") }
        if !(dropout >= 0 && dropout < 1) { throw .invalidConfig("dropout must be in [0, 1), got \(dropout)") }
    }
}

extension ModelConfig {
    private enum CodingKeys: String, CodingKey { case cell, vocabularySize, embeddingSize, hiddenSize, layers, dropout }

    /// Reads a config; one written before the cell was a choice has no `cell` and is an LSTM.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
                  embeddingSize: try c.decode(Int.self, forKey: .embeddingSize),
                  hiddenSize: try c.decode(Int.self, forKey: .hiddenSize), layers: try c.decode(Int.self, forKey: .layers),
                  dropout: try c.decode(Float.self, forKey: .dropout),
                  cell: try c.decodeIfPresent(RecurrentCell.self, forKey: .cell) ?? .lstm)
    }
}

/// Errors from building or running a model.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// A ``ModelConfig`` field is out of range; the string names it and its value.
    case invalidConfig(String)
    /// Weights, a state or a buffer do not have the shape the model needs; the string says which.
    case shapeMismatch(String)
    /// A token id is negative or not below `vocabularySize`.
    case tokenOutOfRange(token: Int32, vocabularySize: Int)

    /// The one-line message.
    public var description: String {
        switch self {
        case .invalidConfig(let what): "invalid model configuration: \(what)"
        case .shapeMismatch(let what): "shape mismatch: \(what)"
        case .tokenOutOfRange(let token, let size): "token id \(token) is outside the vocabulary of \(size) symbols"
        }
    }
}

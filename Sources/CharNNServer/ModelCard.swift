import CharNN

/// What `GET /v1/model` tells about the model: its shape, vocabulary, training and precision.
public struct ModelCard: Sendable, Encodable, Equatable {
    /// The checkpoint file served, when the model came from one.
    public var checkpoint: String?
    /// The recurrent cell.
    public var cell: String
    /// Stacked recurrent layers.
    public var layers: Int
    /// Units per layer.
    public var hiddenSize: Int
    /// Width of the symbol embedding.
    public var embeddingSize: Int
    /// Symbols the model knows.
    public var vocabularySize: Int
    /// Weights and biases in all.
    public var parameters: Int
    /// What one symbol is: `grapheme` or `scalar`.
    public var unit: String
    /// The text normalization applied before tokenizing: `nfc`, `nfkc` or `none`.
    public var normalization: String
    /// The number format of the weights while serving.
    public var precision: String
    /// Where training stood when the checkpoint was written, if it says.
    public var training: TrainingSummary?

    /// Training's progress as a checkpoint records it.
    public struct TrainingSummary: Sendable, Encodable, Equatable {
        /// Optimizer steps taken.
        public var step: Int?
        /// Passes over the training text.
        public var epoch: Int?
        /// The lowest validation loss seen, in nats per symbol.
        public var bestValidationLoss: Double?
    }

    /// The card of `model`, with the training summary from `info` when given.
    public init(model: LanguageModel, info: CheckpointInfo? = nil) {
        let config = model.model.config
        checkpoint = info?.path
        cell = config.cell.rawValue
        layers = config.layers
        hiddenSize = config.hiddenSize
        embeddingSize = config.embeddingSize
        vocabularySize = config.vocabularySize
        parameters = config.parameterCount
        unit = model.tokenizer.options.unit.rawValue
        normalization = model.tokenizer.options.normalization.rawValue
        precision = model.precision.rawValue
        if let info, info.step != nil || info.bestValidationLoss != nil {
            training = TrainingSummary(step: info.step, epoch: info.epoch, bestValidationLoss: info.bestValidationLoss)
        }
    }
}

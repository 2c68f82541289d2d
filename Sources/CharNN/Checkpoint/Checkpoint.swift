import Foundation

/// A charnn checkpoint: a safetensors file whose tensors are the model's weights under PyTorch
/// `state_dict` names (plus, in a full checkpoint, Adam's moments under `optimizer.` and the carried
/// hidden state under `training.`), and whose `__metadata__` holds the format version, the model
/// config, the tokenizer with its vocabulary, the training state and a CRC-32C of all tensor
/// bytes, and (from format version 2) a CRC-32C of the metadata itself. docs/checkpoint-format.md
/// describes it field by field.
public struct Checkpoint: Sendable {
    /// The value of the `format` metadata key that marks a safetensors file as a charnn checkpoint.
    public static let formatName = "charnn.checkpoint"
    /// Version 2 added `metadata_crc32c`; version 3 stores the model's shape only in `model` (no
    /// longer also in the training options) and records `unicode_version`; version 4 records the
    /// recurrent cell (`model.cell`: lstm, gru or rnn). Older files still load, as LSTMs.
    public static let formatVersion = 4

    /// The model: its config and weights (the weight average, when the run keeps one).
    public var model: CharModel
    /// The tokenizer with the model's vocabulary: ids in the file mean these symbols.
    public var tokenizer: Tokenizer
    /// Adam's state; nil in a weights-only checkpoint.
    public var optimizer: AdamOptimizer?
    /// The run's state and its carried hidden state; nil in a weights-only checkpoint.
    public var training: TrainingState?
    /// The hidden and cell state carried into the next batch, stored as `training.state_h` and
    /// `training.state_c`; nil in a weights-only checkpoint.
    public var carriedState: RecurrentState?
    /// The raw weights training continues from, when the run averages its weights (then `model`
    /// holds the average); stored as `training.weights.<name>`.
    public var trainingWeights: ParameterSet?
    /// The Unicode version the tokenizer's normalization and segmentation followed when the
    /// vocabulary was built (``Tokenizer/unicodeVersion`` then); nil in files from before format
    /// version 3. Text tokenized under another version may cut some symbols differently.
    public var unicodeVersion: String?

    /// A checkpoint from its parts; with only a model and tokenizer, a weights-only one. `unicodeVersion`
    /// defaults to this build's ``Tokenizer/unicodeVersion``.
    public init(model: CharModel, tokenizer: Tokenizer, optimizer: AdamOptimizer? = nil,
                training: TrainingState? = nil, carriedState: RecurrentState? = nil, trainingWeights: ParameterSet? = nil,
                unicodeVersion: String? = Tokenizer.unicodeVersion) {
        self.unicodeVersion = unicodeVersion
        self.model = model
        self.tokenizer = tokenizer
        self.optimizer = optimizer
        self.training = training
        self.carriedState = carriedState
        self.trainingWeights = trainingWeights
    }

    /// The same model and tokenizer without optimizer or training state (`charnn export --weights-only`).
    public var weightsOnly: Checkpoint { Checkpoint(model: model, tokenizer: tokenizer, unicodeVersion: unicodeVersion) }

    /// The model config as stored in metadata, with PyTorch-style key names.
    struct StoredModelConfig: Codable {
        var vocab_size: Int, embedding_size: Int, hidden_size: Int, num_layers: Int, dropout: Float
        /// Absent before format version 4, which means the LSTM.
        var cell: RecurrentCell?
    }

    /// Adam's hyperparameters and step count, stored beside its moment tensors.
    struct StoredOptimizer: Codable {
        var name = "adam"
        var beta1: Float, beta2: Float, eps: Float, step: Int
    }
}

extension Checkpoint {
    /// The complete file, ready to be written.
    public func serialized() -> [UInt8] {
        var tensors: [(name: String, tensor: SafeTensorsFile.Tensor)] = []
        func add(_ set: ParameterSet, prefix: String) {
            set.values.withUnsafeBufferPointer { all in
                for t in set.layout.tensors {
                    let bytes = Array(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(all)[(t.offset * 4)..<((t.offset + t.count) * 4)]))
                    tensors.append((prefix + t.name, .init(dtype: .f32, shape: t.shape, bytes: bytes)))
                }
            }
        }
        add(model.parameters, prefix: "")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) -> String { String(decoding: try! encoder.encode(value), as: UTF8.self) }
        var metadata: [String: String] = [
            CheckpointKey.format: Self.formatName,
            CheckpointKey.formatVersion: String(Self.formatVersion),
            CheckpointKey.charnnVersion: charnnVersion,
            CheckpointKey.contents: training == nil ? "weights" : "full",
            CheckpointKey.model: json(StoredModelConfig(
                vocab_size: model.config.vocabularySize, embedding_size: model.config.embeddingSize,
                hidden_size: model.config.hiddenSize, num_layers: model.config.layers, dropout: model.config.dropout,
                cell: model.config.cell)),
            CheckpointKey.tokenizer: json(tokenizer),
            CheckpointKey.unicodeVersion: unicodeVersion ?? Tokenizer.unicodeVersion,
        ]
        if let optimizer {
            add(optimizer.firstMoment, prefix: CheckpointTensor.firstMomentPrefix)
            add(optimizer.secondMoment, prefix: CheckpointTensor.secondMomentPrefix)
            metadata[CheckpointKey.optimizer] = json(StoredOptimizer(
                beta1: optimizer.beta1, beta2: optimizer.beta2, eps: optimizer.epsilon, step: optimizer.stepCount))
        }
        if let training { metadata[CheckpointKey.training] = json(training) }
        if let trainingWeights { add(trainingWeights, prefix: CheckpointTensor.trainingWeightsPrefix) }
        if let state = carriedState {
            let shape = [state.layers, state.batch, state.hidden]
            tensors.append((CheckpointTensor.carriedHidden, .init(state.h, shape: shape)))
            tensors.append((CheckpointTensor.carriedCell, .init(state.c, shape: shape)))
        }
        metadata[CheckpointKey.tensorChecksum] = MetadataChecksum.tensorChecksum(tensors)
        return SafeTensorsFile(tensors: tensors, metadata: MetadataChecksum.sealed(metadata)).serialized()
    }

    /// Writes the checkpoint atomically: the path holds the old file or the whole new one.
    public func write(to path: String) throws(FileWriteError) {
        try AtomicFile.write(serialized(), to: path)
    }
}

/// The names a checkpoint file uses besides the model's own tensors (``ParameterLayout``): its
/// `__metadata__` keys and the names of the optimizer and training tensors. Spelled here only;
/// docs/checkpoint-format.md describes each.
enum CheckpointKey {
    static let format = "format"
    static let formatVersion = "format_version"
    static let charnnVersion = "charnn_version"
    /// "full" (resumable) or "weights".
    static let contents = "contents"
    /// The model's shape, the one place it is stored (format version 3 on).
    static let model = "model"
    static let tokenizer = "tokenizer"
    /// The Unicode version of the normalization and segmentation the tokenizer ran with (version 3 on).
    static let unicodeVersion = "unicode_version"
    static let optimizer = "optimizer"
    static let training = "training"
    static let tensorChecksum = "tensor_crc32c"
    static let metadataChecksum = "metadata_crc32c"
}

/// Names of the tensors a full checkpoint stores beside the model's.
enum CheckpointTensor {
    /// Adam's first and second moments, each under this prefix and the model tensor's name.
    static let firstMomentPrefix = "optimizer.exp_avg."
    static let secondMomentPrefix = "optimizer.exp_avg_sq."
    /// The raw weights training continues from when the saved model is a weight average.
    static let trainingWeightsPrefix = "training.weights."
    /// The carried hidden and cell state, [layers, batch, hidden].
    static let carriedHidden = "training.state_h"
    static let carriedCell = "training.state_c"
}

import Foundation
import Synchronization

/// Why a file is not a usable charnn checkpoint; each description is one line.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read: missing, a directory, no permission, an I/O error.
    case unreadable(path: String, reason: String)
    /// The bytes are not a valid safetensors file; `reason` says what is wrong with them.
    case notSafeTensors(path: String, reason: String)
    /// A valid safetensors file whose metadata does not name charnn's format.
    case notCharNN(path: String)
    /// The file's format version is newer than ``Checkpoint/formatVersion`` (or below 1).
    case unsupportedVersion(path: String, version: String)
    /// The tensor bytes do not match their stored CRC-32C (`stored` and `computed` in hex): the file is damaged.
    case checksumMismatch(path: String, stored: String, computed: String)
    /// The header's metadata does not match its `metadata_crc32c` (format version 2 on).
    case metadataChecksumMismatch(path: String, stored: String, computed: String)
    /// The file is a charnn checkpoint but its contents are missing, malformed or inconsistent; `reason` says which.
    case invalid(path: String, reason: String)

    /// The one-line message, starting with the path.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read checkpoint: \(reason)"
        case .notSafeTensors(let path, let reason): "\(path): \(reason)"
        case .notCharNN(let path):
            "\(path): a safetensors file without charnn's metadata (no format \"\(Checkpoint.formatName)\"); it was not written by charnn"
        case .unsupportedVersion(let path, let version):
            "\(path): checkpoint format version \(version) is newer than this charnn reads (\(Checkpoint.formatVersion)); upgrade charnn"
        case .checksumMismatch(let path, let stored, let computed):
            "\(path): checksum mismatch (stored \(stored), computed \(computed)); the file is damaged"
        case .metadataChecksumMismatch(let path, let stored, let computed):
            "\(path): header checksum mismatch (stored \(stored), computed \(computed)); the file's metadata is damaged"
        case .invalid(let path, let reason): "\(path): damaged or inconsistent checkpoint: \(reason)"
        }
    }
}

extension Checkpoint {
    /// Reads and fully verifies a checkpoint file. The header length is checked against the
    /// file's size before the rest is read, so a file that is not a checkpoint (a video, a disk
    /// image) is refused after reading 8 bytes.
    ///
    /// A checkpoint whose vocabulary was built under another Unicode version than this build's
    /// utf8proc follows loads, with one warning on standard error per process.
    public static func load(from path: String) throws(CheckpointError) -> Checkpoint {
        let checkpoint = try Checkpoint(bytes: try CheckpointFileReader.read(path), path: path)
        if let stored = checkpoint.unicodeVersion, stored != Tokenizer.unicodeVersion {
            UnicodeVersionWarning.once("\(path): the vocabulary was built under Unicode \(stored) but this charnn follows Unicode \(Tokenizer.unicodeVersion); a few symbols may be cut differently")
        }
        return checkpoint
    }

    /// Parses and verifies checkpoint bytes; `path` only labels the errors.
    public init(bytes: [UInt8], path: String = "checkpoint") throws(CheckpointError) {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(bytes: bytes) } catch { throw .notSafeTensors(path: path, reason: error.description) }
        let meta = file.metadata
        guard meta[CheckpointKey.format] == Self.formatName else { throw .notCharNN(path: path) }
        guard let versionText = meta[CheckpointKey.formatVersion], let version = Int(versionText) else {
            throw .invalid(path: path, reason: "missing format_version")
        }
        guard version <= Self.formatVersion, version >= 1 else { throw .unsupportedVersion(path: path, version: versionText) }
        // Version 1 predates the metadata checksum; from version 2 on it is required, so a bit
        // flip in its key cannot turn the check off.
        if version >= 2 {
            guard let stored = meta[CheckpointKey.metadataChecksum] else { throw .invalid(path: path, reason: "missing \(CheckpointKey.metadataChecksum)") }
            let computed = MetadataChecksum.compute(meta)
            guard stored == computed else { throw .metadataChecksumMismatch(path: path, stored: stored, computed: computed) }
        }

        let computed = MetadataChecksum.tensorChecksum(file.tensors)
        guard let stored = meta[CheckpointKey.tensorChecksum] else { throw .invalid(path: path, reason: "missing \(CheckpointKey.tensorChecksum)") }
        guard stored == computed else { throw .checksumMismatch(path: path, stored: stored, computed: computed) }

        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws(CheckpointError) -> T {
            guard let text = meta[key] else { throw .invalid(path: path, reason: "metadata lacks \(key)") }
            do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
                throw .invalid(path: path, reason: "metadata \(key) is malformed")
            }
        }
        let storedConfig = try decode(StoredModelConfig.self, CheckpointKey.model)
        let config = ModelConfig(
            vocabularySize: storedConfig.vocab_size, embeddingSize: storedConfig.embedding_size,
            hiddenSize: storedConfig.hidden_size, layers: storedConfig.num_layers, dropout: storedConfig.dropout,
            cell: storedConfig.cell ?? .lstm)
        do { try config.validate() } catch { throw .invalid(path: path, reason: error.description) }
        let tokenizer = try decode(Tokenizer.self, CheckpointKey.tokenizer)
        guard tokenizer.vocabulary.count == config.vocabularySize else {
            throw .invalid(path: path, reason: "vocabulary has \(tokenizer.vocabulary.count) symbols but the model expects \(config.vocabularySize)")
        }
        // Sizes from the header must fit the bytes actually present before anything is
        // allocated for them: a damaged config could otherwise ask for terabytes.
        try CheckpointSanity.checkFits(config, dataBytes: bytes.count, path: path)
        let layout = ParameterLayout(config: config)
        func parameters(prefix: String) throws(CheckpointError) -> ParameterSet {
            var values = [Float](repeating: 0, count: layout.totalCount)
            for t in layout.tensors {
                guard let tensor = file[prefix + t.name] else { throw .invalid(path: path, reason: "tensor \(prefix + t.name) is missing") }
                guard tensor.dtype == .f32, tensor.shape == t.shape else {
                    throw .invalid(path: path, reason: "tensor \(prefix + t.name) is \(tensor.dtype.rawValue) \(tensor.shape), expected F32 \(t.shape)")
                }
                values.replaceSubrange(t.range, with: tensor.floats())
            }
            try CheckpointSanity.checkFinite(values, what: prefix.isEmpty ? "the weights" : "tensors \(prefix)*", path: path)
            return try! ParameterSet(layout: layout, values: values)
        }
        let weights = try parameters(prefix: "")
        // The layout was built from this config, so the model cannot reject it.
        let model = try! CharModel(config: config, parameters: weights)
        var optimizer: AdamOptimizer?
        if meta[CheckpointKey.optimizer] != nil {
            let stored = try decode(StoredOptimizer.self, CheckpointKey.optimizer)
            try CheckpointSanity.check(stored, path: path)
            var adam = AdamOptimizer(layout: layout, beta1: stored.beta1, beta2: stored.beta2, epsilon: stored.eps)
            adam.firstMoment = try parameters(prefix: CheckpointTensor.firstMomentPrefix)
            adam.secondMoment = try parameters(prefix: CheckpointTensor.secondMomentPrefix)
            adam.stepCount = stored.step
            optimizer = adam
        }
        var training: TrainingState?
        var carried: RecurrentState?
        var trainingWeights: ParameterSet?
        if meta[CheckpointKey.training] != nil {
            var state = try decode(TrainingState.self, CheckpointKey.training)
            // Before version 3 the options repeated the model's shape: check that copy agrees.
            if version < 3 { try CheckpointSanity.check(shapeOf: state.options, config: config, path: path) }
            state.options = state.options.withShape(of: config)
            try CheckpointSanity.check(state, path: path)
            training = state
            guard let h = file[CheckpointTensor.carriedHidden], let c = file[CheckpointTensor.carriedCell], h.shape.count == 3, h.shape == c.shape,
                  h.dtype == .f32, c.dtype == .f32, h.shape[0] == config.layers, h.shape[1] == state.options.batch,
                  h.shape[2] == config.hiddenSize
            else { throw .invalid(path: path, reason: "carried hidden state is missing or has the wrong shape") }
            let (hValues, cValues) = (h.floats(), c.floats())
            try CheckpointSanity.checkFinite(hValues + cValues, what: "the carried hidden state", path: path)
            carried = try? RecurrentState(layers: h.shape[0], batch: h.shape[1], hidden: h.shape[2], h: hValues, c: cValues)
            if state.options.averageDecay != nil { trainingWeights = try parameters(prefix: CheckpointTensor.trainingWeightsPrefix) }
        }
        // A resumable checkpoint needs all three parts; a weights-only one none of them.
        guard (optimizer == nil) == (training == nil) else {
            throw .invalid(path: path, reason: "optimizer and training state must be stored together")
        }
        self.init(model: model, tokenizer: tokenizer, optimizer: optimizer, training: training, carriedState: carried,
                  trainingWeights: trainingWeights, unicodeVersion: meta[CheckpointKey.unicodeVersion])
    }
}

/// Says once per process that a checkpoint's Unicode version differs: a process that loads many
/// checkpoints (a server, a test) would otherwise repeat it for each.
enum UnicodeVersionWarning {
    private static let said = Mutex(false)

    static func once(_ message: String) {
        let first = said.withLock { said in
            defer { said = true }
            return !said
        }
        if first { FileHandle.standardError.write(Data("charnn: warning: \(message)\n".utf8)) }
    }
}

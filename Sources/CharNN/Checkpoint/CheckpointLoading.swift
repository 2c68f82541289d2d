import Foundation

/// Why a file is not a usable charnn checkpoint; each description is one line.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notSafeTensors(path: String, reason: String)
    case notCharNN(path: String)
    case unsupportedVersion(path: String, version: String)
    case checksumMismatch(path: String, stored: String, computed: String)
    case invalid(path: String, reason: String)

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
        case .invalid(let path, let reason): "\(path): damaged or inconsistent checkpoint: \(reason)"
        }
    }
}

extension Checkpoint {
    /// Reads and fully verifies a checkpoint file.
    public static func load(from path: String) throws(CheckpointError) -> Checkpoint {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "it is a directory") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, reason: "permission denied or I/O error")
        }
        return try Checkpoint(bytes: [UInt8](data), path: path)
    }

    /// Parses and verifies checkpoint bytes; `path` only labels the errors.
    public init(bytes: [UInt8], path: String = "checkpoint") throws(CheckpointError) {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(bytes: bytes) } catch { throw .notSafeTensors(path: path, reason: error.description) }
        let meta = file.metadata
        guard meta["format"] == Self.formatName else { throw .notCharNN(path: path) }
        guard let versionText = meta["format_version"], let version = Int(versionText) else {
            throw .invalid(path: path, reason: "missing format_version")
        }
        guard version <= Self.formatVersion, version >= 1 else { throw .unsupportedVersion(path: path, version: versionText) }

        var crc = CRC32C()
        for (_, tensor) in file.tensors { crc.update(tensor.bytes) }
        let computed = String(format: "%08x", crc.value)
        guard let stored = meta["tensor_crc32c"] else { throw .invalid(path: path, reason: "missing tensor_crc32c") }
        guard stored == computed else { throw .checksumMismatch(path: path, stored: stored, computed: computed) }

        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws(CheckpointError) -> T {
            guard let text = meta[key] else { throw .invalid(path: path, reason: "metadata lacks \(key)") }
            do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
                throw .invalid(path: path, reason: "metadata \(key) is malformed")
            }
        }
        let stored_ = try decode(StoredModelConfig.self, "model")
        let config = ModelConfig(
            vocabularySize: stored_.vocab_size, embeddingSize: stored_.embedding_size,
            hiddenSize: stored_.hidden_size, layers: stored_.num_layers, dropout: stored_.dropout)
        do { try config.validate() } catch { throw .invalid(path: path, reason: error.description) }
        let tokenizer = try decode(Tokenizer.self, "tokenizer")
        guard tokenizer.vocabulary.count == config.vocabularySize else {
            throw .invalid(path: path, reason: "vocabulary has \(tokenizer.vocabulary.count) symbols but the model expects \(config.vocabularySize)")
        }
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
            return try! ParameterSet(layout: layout, values: values)
        }
        let weights = try parameters(prefix: "")
        // The layout was built from this config, so the model cannot reject it.
        let model = try! CharModel(config: config, parameters: weights)
        var optimizer: AdamOptimizer?
        if meta["optimizer"] != nil {
            let stored = try decode(StoredOptimizer.self, "optimizer")
            var adam = AdamOptimizer(layout: layout, beta1: stored.beta1, beta2: stored.beta2, epsilon: stored.eps)
            adam.firstMoment = try parameters(prefix: "optimizer.exp_avg.")
            adam.secondMoment = try parameters(prefix: "optimizer.exp_avg_sq.")
            adam.stepCount = stored.step
            optimizer = adam
        }
        var training: TrainingState?
        var carried: RecurrentState?
        if meta["training"] != nil {
            training = try decode(TrainingState.self, "training")
            guard let h = file["training.state_h"], let c = file["training.state_c"], h.shape.count == 3, h.shape == c.shape,
                  h.dtype == .f32, c.dtype == .f32, h.shape[0] == config.layers, h.shape[2] == config.hiddenSize
            else { throw .invalid(path: path, reason: "carried hidden state is missing or has the wrong shape") }
            carried = try? RecurrentState(layers: h.shape[0], batch: h.shape[1], hidden: h.shape[2], h: h.floats(), c: c.floats())
        }
        self.init(model: model, tokenizer: tokenizer, optimizer: optimizer, training: training, carriedState: carried)
    }
}

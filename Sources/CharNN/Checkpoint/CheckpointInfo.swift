import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What `charnn inspect` reports about a checkpoint file. Built even from a damaged file, as far
/// as its header can be read, so the report can say exactly what is wrong.
public struct CheckpointInfo: Sendable, Codable {
    /// The file inspected.
    public var path: String
    /// The file's size in bytes.
    public var fileBytes: Int
    /// The `format_version` metadata, as stored (nil when absent or unreadable).
    public var formatVersion: String?
    /// `"full"` for a checkpoint a run can resume from, `"weights"` for a weights-only one.
    public var contents: String?
    /// The charnn version that wrote the file.
    public var charnnVersion: String?
    /// The model's shape, when the checkpoint loads.
    public var config: ModelConfig?
    /// The model's trainable parameters, when the checkpoint loads.
    public var parameterCount: Int?
    /// The tokenizer's symbol unit (a ``SymbolUnit`` raw value, e.g. `grapheme`), when the checkpoint loads.
    public var unit: String?
    /// The tokenizer's Unicode normalization (a ``Normalization`` raw value, e.g. `nfc`), when the checkpoint loads.
    public var normalization: String?
    /// The Unicode version the vocabulary was built under (format version 3 on).
    public var unicodeVersion: String?
    /// Symbols in the vocabulary, when the checkpoint loads.
    public var vocabularySize: Int?
    /// The most frequent symbols, escaped for display.
    public var vocabularyPreview: [String]
    /// Updates the run had applied, for a full checkpoint.
    public var step: Int?
    /// Completed epochs, for a full checkpoint.
    public var epoch: Int?
    /// The run's lowest validation loss in nats per symbol, for a full checkpoint that has one.
    public var bestValidationLoss: Double?
    /// The decay of the weight average the model tensors hold, when the run keeps one.
    public var averageDecay: Double?
    /// The fraction of recurrent weights the run drops each step (`--weight-drop`), when above 0.
    public var weightDrop: Float?
    /// Whether the run locks each stream's dropout mask over a window (`--locked-dropout`).
    public var lockedDropout = false
    /// The CRC-32C of the tensor bytes the file records, in hex.
    public var storedChecksum: String?
    /// The CRC-32C of the tensor bytes as read, in hex (8 digits).
    public var computedChecksum: String?
    /// True when the stored and computed CRC-32C agree.
    public var checksumMatches: Bool
    /// Nil when the file loads as a checkpoint; otherwise the reason it does not.
    public var problem: String?

    /// Reads `path` and reports on it; throws only if the file cannot be read at all.
    public static func inspect(path: String) throws(CheckpointError) -> CheckpointInfo {
        let bytes: [UInt8]
        do { bytes = try CheckpointFileReader.read(path) } catch {
            // A header length that does not fit is a finding about the file, not a read failure.
            guard case .notSafeTensors(_, let reason) = error else { throw error }
            var info = CheckpointInfo(path: path, fileBytes: 0, vocabularyPreview: [], checksumMatches: false)
            var size = stat()
            if stat(path, &size) == 0 { info.fileBytes = Int(size.st_size) }
            info.problem = CheckpointError.notSafeTensors(path: path, reason: reason).description
            return info
        }
        var info = CheckpointInfo(path: path, fileBytes: bytes.count, vocabularyPreview: [], checksumMatches: false)
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(bytes: bytes) } catch {
            info.problem = CheckpointError.notSafeTensors(path: path, reason: error.description).description
            return info
        }
        let meta = file.metadata
        info.formatVersion = meta[CheckpointKey.formatVersion]
        info.contents = meta[CheckpointKey.contents]
        info.charnnVersion = meta[CheckpointKey.charnnVersion]
        info.unicodeVersion = meta[CheckpointKey.unicodeVersion]
        info.storedChecksum = meta[CheckpointKey.tensorChecksum]
        info.computedChecksum = MetadataChecksum.tensorChecksum(file.tensors)
        info.checksumMatches = info.storedChecksum == info.computedChecksum
        do {
            let checkpoint = try Checkpoint(bytes: bytes, path: path)
            info.config = checkpoint.model.config
            info.parameterCount = checkpoint.model.parameters.layout.totalCount
            info.unit = checkpoint.tokenizer.options.unit.rawValue
            info.normalization = checkpoint.tokenizer.options.normalization.rawValue
            info.vocabularySize = checkpoint.tokenizer.vocabulary.count
            info.vocabularyPreview = checkpoint.tokenizer.vocabulary.symbols.prefix(24).map { SymbolEscaping.quoted($0) }
            info.step = checkpoint.training?.step
            info.epoch = checkpoint.training?.cursor.epoch
            info.bestValidationLoss = checkpoint.training?.bestValidationLoss
            info.averageDecay = checkpoint.training?.options.averageDecay
            info.weightDrop = checkpoint.training.flatMap { $0.options.weightDrop > 0 ? $0.options.weightDrop : nil }
            info.lockedDropout = checkpoint.training?.options.lockedDropout ?? false
        } catch {
            info.problem = error.description
        }
        return info
    }
}

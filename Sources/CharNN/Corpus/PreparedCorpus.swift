import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A corpus tokenized once by `charnn prepare`, read by memory mapping (as nanoGPT's train.bin).
///
/// The directory holds two files:
/// - `tokens.bin`: every symbol's id, back to back, as little-endian unsigned integers of the
///   narrowest width the vocabulary allows (1 byte up to 256 symbols, 2 up to 65,536, else 4);
/// - `corpus.json`: ``PreparedCorpusInfo``: format and version, the tokenizer (its options and
///   vocabulary), the id width, the symbol count, the CRC-32C of `tokens.bin`, and which input
///   files went in, in which order.
///
/// Training takes the last `--val-frac` of the ids as its validation split, exactly as for a
/// text file: the end of the last input file.
public struct PreparedCorpus: Sendable {
    /// The file of ids in a prepared directory.
    public static let tokensFile = "tokens.bin"
    /// The metadata file in a prepared directory.
    public static let infoFile = "corpus.json"

    /// The directory's path.
    public let path: String
    /// What `corpus.json` says.
    public let info: PreparedCorpusInfo
    /// The ids, mapped from `tokens.bin`.
    public let tokens: TokenSequence

    /// True when `path` is a directory holding a `corpus.json` (so it is meant as a prepared corpus).
    public static func isPrepared(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: path + "/" + infoFile)
    }

    /// Opens the prepared corpus in `path` and checks it whole: its metadata, its version, the
    /// size of `tokens.bin`, its checksum and that every id is in the vocabulary.
    ///
    /// - Throws: ``PreparedCorpusError``.
    public init(path: String) throws(PreparedCorpusError) {
        self.path = path
        let infoPath = path + "/" + Self.infoFile
        guard let data = FileManager.default.contents(atPath: infoPath) else {
            throw .notPrepared(path: path, reason: "no readable \(Self.infoFile); make one with charnn prepare")
        }
        let info: PreparedCorpusInfo
        do { info = try JSONDecoder().decode(PreparedCorpusInfo.self, from: data) } catch {
            throw .corrupt(path: infoPath, reason: "not a valid prepared-corpus description")
        }
        guard info.format == PreparedCorpusInfo.formatName else {
            throw .corrupt(path: infoPath, reason: "format is \"\(info.format)\", not \"\(PreparedCorpusInfo.formatName)\"")
        }
        guard info.version == PreparedCorpusInfo.currentVersion else {
            throw .unsupportedVersion(path: path, version: info.version)
        }
        let vocabularySize = info.tokenizer.vocabulary.count
        guard info.tokenWidth == PreparedCorpusInfo.width(forVocabularySize: vocabularySize), info.symbolCount >= 0 else {
            throw .corrupt(path: infoPath, reason: "token width \(info.tokenWidth) does not suit \(vocabularySize) symbols")
        }
        let tokensPath = path + "/" + Self.tokensFile
        let mapped: MappedTokens
        do { mapped = try MappedTokens(path: tokensPath, width: info.tokenWidth) } catch {
            throw .corrupt(path: tokensPath, reason: error.description)
        }
        guard mapped.count == info.symbolCount else {
            throw .corrupt(path: tokensPath, reason: "holds \(mapped.count) ids, \(Self.infoFile) says \(info.symbolCount)")
        }
        var crc = CRC32C()
        crc.update(mapped.bytes)
        guard crc.value == info.tokensCRC32C else {
            throw .corrupt(path: tokensPath, reason: "checksum mismatch: the file changed after it was prepared")
        }
        if let bad = Self.firstIDOutside(mapped, vocabularySize: vocabularySize) {
            throw .corrupt(path: tokensPath, reason: "id \(bad) is outside the vocabulary of \(vocabularySize)")
        }
        self.info = info
        tokens = .mapped(mapped)
    }

    /// An id outside `0 ..< vocabularySize`, or nil (a width-1 file against a vocabulary of
    /// under 256 symbols can still hold one too large, and the model would index past its table).
    private static func firstIDOutside(_ tokens: MappedTokens, vocabularySize: Int) -> Int64? {
        var block = [Int32](repeating: 0, count: 1 << 16)
        var start = 0
        while start < tokens.count {
            let n = min(block.count, tokens.count - start)
            let bad: Int32? = block.withUnsafeMutableBufferPointer { b in
                tokens.copy(start..<(start + n), into: b.baseAddress!)
                var low = Int32.max, high = Int32.min
                for k in 0..<n { low = min(low, b[k]); high = max(high, b[k]) }
                if low < 0 { return low }
                return Int(high) >= vocabularySize ? high : nil
            }
            // A negative Int32 is a UInt32 id above Int32.max.
            if let bad { return bad < 0 ? Int64(UInt32(bitPattern: bad)) : Int64(bad) }
            start += n
        }
        return nil
    }

    /// The tokenizer the corpus was prepared with.
    public var tokenizer: Tokenizer { info.tokenizer }
}

/// `corpus.json` of a prepared corpus.
public struct PreparedCorpusInfo: Codable, Sendable, Equatable {
    /// The `format` value every prepared corpus has.
    public static let formatName = "charnn-prepared-corpus"
    /// The version this build writes and reads.
    public static let currentVersion = 1

    /// One input file, in the order it went in.
    public struct Input: Codable, Sendable, Equatable {
        /// The path as found (a file named on the command line, or one found in a directory).
        public var path: String
        /// Its size in bytes.
        public var bytes: Int
        /// The symbols it contributed.
        public var symbols: Int
    }

    /// Always ``formatName``.
    public var format: String
    /// The format version, ``currentVersion`` when written by this build.
    public var version: Int
    /// The text options and vocabulary; the ids are this vocabulary's.
    public var tokenizer: Tokenizer
    /// Bytes per id in `tokens.bin`: 1, 2 or 4.
    public var tokenWidth: Int
    /// Ids in `tokens.bin`.
    public var symbolCount: Int
    /// CRC-32C of `tokens.bin`'s bytes.
    public var tokensCRC32C: UInt32
    /// The inputs, in order.
    public var inputs: [Input]
    /// Ill-formed UTF-8 sequences replaced by U+FFFD (with `replaceInvalid`).
    public var replacedSequences: Int

    /// The narrowest id width for a vocabulary of `count` symbols.
    public static func width(forVocabularySize count: Int) -> Int {
        count <= 256 ? 1 : count <= 65_536 ? 2 : 4
    }

    enum CodingKeys: String, CodingKey {
        case format, version, tokenizer, inputs
        case tokenWidth = "token_width"
        case symbolCount = "symbol_count"
        case tokensCRC32C = "tokens_crc32c"
        case replacedSequences = "replaced_sequences"
    }
}

/// Why a prepared corpus could not be made or opened; each names the path at fault.
public enum PreparedCorpusError: Error, Equatable, CustomStringConvertible {
    /// A directory given as input holds no file to prepare.
    case noInputFiles(path: String)
    /// The directory is not a prepared corpus.
    case notPrepared(path: String, reason: String)
    /// A prepared corpus whose files disagree with each other or with their checksum.
    case corrupt(path: String, reason: String)
    /// A prepared corpus from another version of charnn.
    case unsupportedVersion(path: String, version: Int)
    /// `--out` exists already (without `force`).
    case outputExists(path: String)
    /// The output could not be written; nothing was left behind.
    case cannotWrite(path: String, reason: String)
    /// Nothing to prepare: no symbols in any input.
    case empty(path: String)

    /// The one-line message, starting with the path.
    public var description: String {
        switch self {
        case let .noInputFiles(path): "\(path): the directory holds no files to prepare"
        case let .notPrepared(path, reason): "\(path): not a prepared corpus: \(reason)"
        case let .corrupt(path, reason): "\(path): damaged prepared corpus: \(reason); prepare it again"
        case let .unsupportedVersion(path, version):
            "\(path): prepared corpus format version \(version); this charnn reads version \(PreparedCorpusInfo.currentVersion); prepare it again"
        case let .outputExists(path): "\(path): already exists; pass --force to replace it, or choose another --out"
        case let .cannotWrite(path, reason): "\(path): cannot write: \(reason)"
        case let .empty(path): "\(path): the input holds no text; there is nothing to prepare"
        }
    }
}

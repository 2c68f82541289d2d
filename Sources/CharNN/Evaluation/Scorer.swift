import Foundation

/// How well a model predicts a text.
public struct ScoreResult: Sendable, Equatable, Codable {
    /// Predictions scored (every symbol after the first that the model knows).
    public var symbols: Int
    /// Symbols the vocabulary lacks: scored as the unknown symbol if it has one, else left out.
    public var unknown: Int
    /// The summed negative log-likelihood in nats.
    public var totalNats: Double

    /// A result from its counts; the defaults are the empty result.
    public init(symbols: Int = 0, unknown: Int = 0, totalNats: Double = 0) {
        self.symbols = symbols
        self.unknown = unknown
        self.totalNats = totalNats
    }

    /// Mean loss in nats per symbol.
    public var natsPerSymbol: Double { symbols > 0 ? totalNats / Double(symbols) : .nan }
    /// Mean loss in bits per symbol (bits per character for a grapheme model).
    public var bitsPerSymbol: Double { natsPerSymbol / M_LN2 }
    /// e^(nats per symbol): the effective number of equally likely choices per symbol.
    public var perplexity: Double { exp(natsPerSymbol) }
}

/// How ``Scorer`` reads a text.
public enum ScoringMode: Sendable, Equatable {
    /// The text read once from its start with the state carried (a zero state before the first
    /// symbol): each symbol is predicted from all before it, the first is context only. The loss
    /// PyTorch's `nn.LSTM` gives when run over the whole text as one sequence.
    case onePass
    /// An approximation, faster on long texts: each piece of the file (``Scorer/scoreFile(atPath:chunkBytes:)``'s
    /// chunk) is cut into `streams` segments scored side by side, each from a zero state `warmup`
    /// symbols before its first prediction (those symbols are read, not scored).
    case parallel(streams: Int, warmup: Int)

    /// What the number measures, for reports.
    public var summary: String {
        switch self {
        case .onePass:
            return "one pass over the text, state carried from its first symbol"
        case .parallel(let streams, let warmup):
            let start = warmup == 0 ? "from a zero state" : "after \(warmup) warm-up symbols"
            return "approximation: \(streams) segments side by side, each starting \(start)"
        }
    }
}

/// Scores text under a model: strings in memory, or files of any size streamed in pieces.
public struct Scorer {
    /// The model whose predictions are scored.
    public let model: CharModel
    /// The model's tokenizer, which turns the text into ids.
    public let tokenizer: Tokenizer
    /// How the text is read: one pass (the default) or segments side by side.
    public var mode: ScoringMode
    /// Symbols per forward pass of each stream.
    public var steps: Int
    /// Cores for ``ScoringMode/onePass``'s per-step recurrence (1 or 2), used where the packed
    /// recurrent kernel runs (AVX2 or AVX-512); the loss does not depend on it.
    public var threads = 1
    /// When set, ``ScoringMode/onePass`` reads the text through this stepper, one symbol at a
    /// time, instead of the model's batched forward pass (which gives ``model``'s loss).
    package var stepper: SymbolStepper?

    /// A scorer for `model`; `steps` below 1 counts as 1. Throws ``ModelError/shapeMismatch(_:)``
    /// when the tokenizer's vocabulary is not the model's.
    public init(model: CharModel, tokenizer: Tokenizer, mode: ScoringMode = .onePass, steps: Int = 256) throws(ModelError) {
        guard tokenizer.vocabulary.count == model.config.vocabularySize else {
            throw .shapeMismatch("the tokenizer's vocabulary does not match the model")
        }
        self.model = model
        self.tokenizer = tokenizer
        self.mode = mode
        self.steps = max(1, steps)
    }

    /// The log-likelihood of `text` read as ``mode`` says (by default each symbol predicted from all
    /// before it; the first is context, so n symbols give n − 1 predictions).
    public func score(_ text: String) throws -> ScoreResult {
        let encoding = try encode(Array(text.utf8), file: nil)
        let reader = try makeReader()
        try reader.read(Array(encoding.tokens))
        return try reader.finish(unknown: encoding.unknownCount)
    }

    /// Scores the file at `path` read in chunks of about `chunkBytes`, so memory stays flat whatever
    /// the file's size. Chunks are cut where text can be cut safely (after a newline, or between two
    /// ASCII characters). In ``ScoringMode/onePass`` the chunks are one stream, so the result is
    /// the same for any `chunkBytes` and equals ``score(_:)`` of the whole text.
    ///
    /// The path `-` reads standard input, named "standard input" in errors.
    public func scoreFile(atPath filePath: String, chunkBytes: Int = 4 << 20) throws -> ScoreResult {
        let path = TextFile.displayName(filePath)
        let isStandardInput = filePath == TextFile.standardInputPath
        guard let handle = isStandardInput ? FileHandle.standardInput : FileHandle(forReadingAtPath: filePath) else {
            _ = try TextFile.read(atPath: filePath)  // throws the precise one-line reason
            throw TextError.unreadable(path: path, reason: "cannot open")
        }
        defer { if !isStandardInput { try? handle.close() } }
        let reader = try makeReader()
        var unknown = 0
        var pending: [UInt8] = []
        var offset = 0, lines = 0, first = true
        while true {
            let block = handle.readData(ofLength: chunkBytes)
            pending += block
            let atEnd = block.isEmpty
            guard let cut = atEnd ? pending.count : Self.safeCut(pending) else { continue }
            var piece = Array(pending[0..<cut])
            pending.removeFirst(cut)
            try BinarySniffer.check(piece, path: path, offset: offset, linesBefore: lines)
            if first, piece.starts(with: [0xEF, 0xBB, 0xBF]) {
                piece.removeFirst(3)
                offset += 3
            }
            first = false
            let encoding: Encoding
            do { encoding = try encode(piece, file: path) } catch {
                // Positions inside the chunk become positions in the file.
                guard case .invalidUTF8(let file, let at, let line) = error else { throw error }
                throw TextError.invalidUTF8(file: file, byteOffset: at + offset, line: line + lines)
            }
            offset += piece.count
            lines += piece.lazy.filter { $0 == 0x0A }.count
            unknown += encoding.unknownCount
            try reader.read(Array(encoding.tokens))
            if atEnd { break }
        }
        return try reader.finish(unknown: unknown)
    }

    private func encode(_ bytes: [UInt8], file: String?) throws(TextError) -> Encoding {
        // Chunks after the first may start with a U+FEFF that is text, not a byte order mark.
        try tokenizer.encode(bytes, file: file, dropByteOrderMark: false, dropUnknown: tokenizer.vocabulary.unknownID == nil)
    }

    private func makeReader() throws(ModelError) -> Reader {
        switch mode {
        case .onePass:
            if let stepper { return .stepped(SteppedReader(stepper: stepper)) }
            return .onePass(try OnePassReader(model: model, steps: steps, threads: threads))
        case .parallel(let streams, let warmup):
            return .segments(try SegmentReader(model: model, streams: streams, warmup: warmup, steps: steps))
        }
    }

    /// The reader of the chosen mode, behind one interface.
    private enum Reader {
        case onePass(OnePassReader)
        case segments(SegmentReader)
        case stepped(SteppedReader)

        func read(_ ids: [Int32]) throws(ModelError) {
            switch self {
            case .onePass(let reader): try reader.read(ids)
            case .segments(let reader): try reader.read(ids)
            case .stepped(let reader): reader.read(ids)
            }
        }

        func finish(unknown: Int) throws(ModelError) -> ScoreResult {
            switch self {
            case .onePass(let reader):
                try reader.finish()
                return ScoreResult(symbols: reader.predictions, unknown: unknown, totalNats: reader.totalNats)
            case .segments(let reader):
                return ScoreResult(symbols: reader.predictions, unknown: unknown, totalNats: reader.totalNats)
            case .stepped(let reader):
                return ScoreResult(symbols: reader.predictions, unknown: unknown, totalNats: reader.totalNats)
            }
        }
    }

    /// Where `bytes` may be cut without changing normalization or symbol boundaries: just after
    /// the last LF, or else between two ASCII bytes. Nil if nowhere.
    static func safeCut(_ bytes: [UInt8]) -> Int? {
        if let lf = bytes.lastIndex(of: 0x0A) { return lf + 1 }
        // No LF below, so no CR LF either: two adjacent ASCII bytes are always two symbols, and
        // neither composes with the other under NFC or NFKC.
        var i = bytes.count - 1
        while i > 0 {
            if bytes[i] < 0x80 && bytes[i - 1] < 0x80 { return i }
            i -= 1
        }
        return nil
    }
}

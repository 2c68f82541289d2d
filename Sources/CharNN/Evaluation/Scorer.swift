import Foundation

/// How well a model predicts a text.
public struct ScoreResult: Sendable, Equatable, Codable {
    /// Predictions scored (every symbol after the first that the model knows).
    public var symbols: Int
    /// Symbols the vocabulary lacks: scored as the unknown symbol if it has one, else left out.
    public var unknown: Int
    /// The summed negative log-likelihood in nats.
    public var totalNats: Double

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

/// Scores text under a model: strings in memory, or files of any size streamed in chunks.
public struct Scorer {
    public let model: CharModel
    public let tokenizer: Tokenizer
    /// Parallel streams per chunk (the evaluation batch).
    public var streams: Int
    /// Symbols per forward pass of each stream.
    public var steps: Int

    public init(model: CharModel, tokenizer: Tokenizer, streams: Int = 16, steps: Int = 128) throws(ModelError) {
        guard tokenizer.vocabulary.count == model.config.vocabularySize else {
            throw .shapeMismatch("the tokenizer's vocabulary does not match the model")
        }
        self.model = model
        self.tokenizer = tokenizer
        self.streams = max(1, streams)
        self.steps = max(1, steps)
    }

    /// The log-likelihood of `text`: each symbol predicted from all before it (the first is context).
    public func score(_ text: String) throws -> ScoreResult {
        try score(encoding: try encode(Array(text.utf8), file: nil))
    }

    /// Scores the file at `path` in chunks of about `chunkBytes`, so memory stays flat whatever the
    /// file's size. Chunks are cut where text can be cut safely (after a newline, or between two
    /// ASCII characters), and each chunk starts from the previous chunk's last symbol, so every
    /// symbol but the file's first is predicted. Within a chunk, ``streams`` segments run side by
    /// side, each starting from a zero state.
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
        var result = ScoreResult()
        var pending: [UInt8] = []
        var previous: Int32?
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
            var ids = Array(encoding.tokens)
            if let previous { ids.insert(previous, at: 0) }
            previous = ids.last ?? previous
            let part = try score(encoding: Encoding(tokens: TokenSequence(ids.map(Int.init), vocabularySize: tokenizer.vocabulary.count),
                                                    unknownSymbols: [], unknownCount: encoding.unknownCount, replacedSequences: 0))
            result.symbols += part.symbols
            result.unknown += part.unknown
            result.totalNats += part.totalNats
            if atEnd { break }
        }
        return result
    }

    private func encode(_ bytes: [UInt8], file: String?) throws(TextError) -> Encoding {
        // Chunks after the first may start with a U+FEFF that is text, not a byte order mark.
        try tokenizer.encode(bytes, file: file, dropByteOrderMark: false, dropUnknown: tokenizer.vocabulary.unknownID == nil)
    }

    private func score(encoding: Encoding) throws -> ScoreResult {
        let evaluator = Evaluator(tokens: encoding.tokens, batch: streams, steps: steps)
        let mean = try evaluator.meanLoss(of: model)
        let n = evaluator.predictionCount
        return ScoreResult(symbols: n, unknown: encoding.unknownCount, totalNats: (mean ?? 0) * Double(n))
    }

    /// Where `bytes` may be cut without changing normalization or symbol boundaries: just after
    /// the last LF, or else between two ASCII bytes that are not CR LF. Nil if nowhere.
    static func safeCut(_ bytes: [UInt8]) -> Int? {
        if let lf = bytes.lastIndex(of: 0x0A) { return lf + 1 }
        var i = bytes.count - 1
        while i > 0 {
            if bytes[i] < 0x80 && bytes[i - 1] < 0x80 && !(bytes[i - 1] == 0x0D && bytes[i] == 0x0A) { return i }
            i -= 1
        }
        return nil
    }
}

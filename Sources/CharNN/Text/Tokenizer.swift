/// Turns text into token ids and back: the options that say how text is cut, and the
/// vocabulary that numbers the symbols. It is what a checkpoint stores about text.
///
/// For every valid text whose symbols are all in the vocabulary,
/// `decode(encode(x).tokens) == normalize(x)`, byte for byte.
public struct Tokenizer: Codable, Sendable, Equatable {
    /// How text is cut into symbols.
    public let options: TextOptions
    /// The symbols and their ids.
    public let vocabulary: Vocabulary

    /// A tokenizer from stored parts (a checkpoint's).
    public init(options: TextOptions, vocabulary: Vocabulary) {
        self.options = options
        self.vocabulary = vocabulary
    }

    // MARK: Building from a corpus

    /// Builds the vocabulary of the file at `path` (standard input for `-`) and, unless `keepTokens` is false, the
    /// file's token ids, in one pass (see ``build(bytes:file:options:keepTokens:)``).
    public static func build(fromFile path: String, options: TextOptions = TextOptions(), keepTokens: Bool = true)
        throws(TextError) -> TokenizedCorpus
    {
        try build(bytes: try TextFile.readText(atPath: path), file: TextFile.displayName(path), options: options, keepTokens: keepTokens)
    }

    /// Builds the vocabulary of a file's UTF-8 `bytes` (a leading BOM is dropped) and, unless
    /// `keepTokens` is false, its token ids. `file` names the input in errors.
    ///
    /// Working memory beyond `bytes` is the ids (2 bytes per symbol while the corpus has at
    /// most 65,536 distinct symbols) plus about a megabyte of chunk buffers.
    ///
    /// - Throws: ``TextError/invalidMinCount(_:)``, or
    ///   ``TextError/invalidUTF8(file:byteOffset:line:)`` unless `options.replaceInvalid`.
    public static func build(
        bytes: some Collection<UInt8>, file: String? = nil, options: TextOptions = TextOptions(),
        keepTokens: Bool = true
    ) throws(TextError) -> TokenizedCorpus {
        try build(bytes, file: file, dropByteOrderMark: true, options: options, keepTokens: keepTokens)
    }

    /// Builds the vocabulary of `text` and, unless `keepTokens` is false, its token ids.
    public static func build(text: String, options: TextOptions = TextOptions(), keepTokens: Bool = true)
        throws(TextError) -> TokenizedCorpus
    {
        try build(text.utf8, file: nil, dropByteOrderMark: false, options: options, keepTokens: keepTokens)
    }

    static func build(
        _ bytes: some Collection<UInt8>, file: String?, dropByteOrderMark: Bool, options: TextOptions,
        keepTokens: Bool, chunkSize: Int = TextPipeline.defaultChunkSize
    ) throws(TextError) -> TokenizedCorpus {
        guard options.minCount >= 1 else { throw .invalidMinCount(options.minCount) }
        var builder = VocabularyBuilder(keepTokens: keepTokens, reservation: bytes.count)
        let replaced = try TextPipeline.run(
            bytes, options: options, file: file, dropByteOrderMark: dropByteOrderMark,
            chunkSize: chunkSize, into: &builder)
        let (vocabulary, tokens) = builder.finish(minCount: options.minCount)
        return TokenizedCorpus(
            tokenizer: Tokenizer(options: options, vocabulary: vocabulary), tokens: tokens,
            replacedSequences: replaced)
    }

    // MARK: Encoding and decoding

    /// The ids of `text`'s symbols. Symbols the vocabulary lacks become its unknown symbol and
    /// are listed in the result.
    ///
    /// - Throws: ``TextError/symbolsNotInVocabulary(file:distinct:examples:)`` when some
    ///   symbol is missing and the vocabulary has no unknown symbol.
    public func encode(_ text: String) throws(TextError) -> Encoding {
        try encode(text.utf8, file: nil, dropByteOrderMark: false)
    }

    /// The ids of `text`'s symbols that the vocabulary has; the others are left out (and listed
    /// in the result), even when the vocabulary has an unknown symbol. For prime text, where an
    /// unknown symbol would be a guess the user did not ask for.
    public func encodeDroppingUnknown(_ text: String) -> Encoding {
        // Cannot throw: a String is valid UTF-8 and missing symbols are dropped, not refused.
        try! encode(text.utf8, file: nil, dropByteOrderMark: false, dropUnknown: true)
    }

    /// The ids of the symbols in a file's UTF-8 `bytes` (a leading BOM is dropped; invalid
    /// UTF-8 is an error unless the tokenizer's options replace it). See ``encode(_:)``.
    public func encode(bytes: some Collection<UInt8>, file: String? = nil) throws(TextError) -> Encoding {
        try encode(bytes, file: file, dropByteOrderMark: true)
    }

    /// As ``encode(bytes:file:)``, but symbols the vocabulary lacks are left out (and listed)
    /// instead of becoming the unknown symbol or an error.
    public func encode(bytes: some Collection<UInt8>, file: String? = nil, droppingUnknown: Bool) throws(TextError) -> Encoding {
        try encode(bytes, file: file, dropByteOrderMark: true, dropUnknown: droppingUnknown)
    }

    /// The ids of the symbols in the file at `path` (standard input for `-`). See ``encode(bytes:file:)``.
    public func encode(fileAtPath path: String) throws(TextError) -> Encoding {
        try encode(bytes: try TextFile.readText(atPath: path), file: TextFile.displayName(path))
    }

    func encode(
        _ bytes: some Collection<UInt8>, file: String?, dropByteOrderMark: Bool,
        chunkSize: Int = TextPipeline.defaultChunkSize, dropUnknown: Bool = false
    ) throws(TextError) -> Encoding {
        var encoder = VocabularyEncoder(vocabulary: vocabulary, reservation: bytes.count, dropMissing: dropUnknown)
        let replaced = try TextPipeline.run(
            bytes, options: options, file: file, dropByteOrderMark: dropByteOrderMark,
            chunkSize: chunkSize, into: &encoder)
        let missing = (0..<encoder.missing.count).map {
            String(decoding: encoder.missing.bytes(of: $0), as: UTF8.self)
        }
        if !missing.isEmpty && vocabulary.unknownID == nil && !dropUnknown {
            throw .symbolsNotInVocabulary(file: file, distinct: missing.count, examples: Array(missing.prefix(5)))
        }
        var tokens = encoder.tokens
        return Encoding(
            tokens: tokens.take(), unknownSymbols: missing, unknownCount: encoder.missingCount,
            replacedSequences: replaced)
    }

    /// The text that `ids` stand for: their symbols' bytes back to back, the unknown symbol
    /// as U+FFFD. Every id must be in `0 ..< vocabulary.count`.
    public func decode<S: Sequence>(_ ids: S) -> String where S.Element: BinaryInteger {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.underestimatedCount)
        for id in ids {
            let i = Int(id)
            precondition(i >= 0 && i < vocabulary.count, "token id \(i) outside the vocabulary of \(vocabulary.count)")
            bytes.append(contentsOf: vocabulary.decodedBytes(of: i))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` normalized as this tokenizer normalizes it (a `String` has no BOM to drop).
    public func normalize(_ text: String) -> String {
        var sink = ByteCollectingSink()
        var scalarOptions = options
        scalarOptions.unit = .scalar
        // A String is valid UTF-8, so the pipeline cannot fail.
        _ = try? TextPipeline.run(text.utf8, options: scalarOptions, file: nil, dropByteOrderMark: false, into: &sink)
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    /// `text` cut into symbols (normalized first), whether or not the vocabulary has them.
    public func symbols(of text: String) -> [String] {
        var sink = StringCollectingSink()
        _ = try? TextPipeline.run(text.utf8, options: options, file: nil, dropByteOrderMark: false, into: &sink)
        return sink.symbols
    }
}

/// A corpus's tokenizer and its token ids, from ``Tokenizer/build(bytes:file:options:keepTokens:)``.
public struct TokenizedCorpus: Sendable, Equatable {
    /// The options used and the vocabulary built.
    public var tokenizer: Tokenizer
    /// The corpus as ids (empty when built with `keepTokens: false`).
    public var tokens: TokenSequence
    /// How many ill-formed UTF-8 sequences became U+FFFD.
    public var replacedSequences: Int

    /// The number of symbols in the corpus.
    public var symbolCount: Int { tokenizer.vocabulary.totalCount }
}

/// The result of ``Tokenizer/encode(_:)``.
public struct Encoding: Sendable {
    /// The ids, one per symbol.
    public var tokens: TokenSequence
    /// The distinct symbols not in the vocabulary (encoded as its unknown symbol), in order of
    /// first appearance.
    public var unknownSymbols: [String]
    /// How many symbols of the text were not in the vocabulary.
    public var unknownCount: Int
    /// How many ill-formed UTF-8 sequences became U+FFFD.
    public var replacedSequences: Int
}

extension Encoding: Equatable {
    /// Equal when everything is equal, symbols compared byte for byte.
    public static func == (a: Encoding, b: Encoding) -> Bool {
        a.tokens == b.tokens && a.unknownCount == b.unknownCount && a.replacedSequences == b.replacedSequences
            && a.unknownSymbols.count == b.unknownSymbols.count
            && zip(a.unknownSymbols, b.unknownSymbols).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }
}

/// The symbols a model knows, each with its id (its index) and how often it occurred in the
/// corpus the vocabulary was built from.
///
/// Order is deterministic, so one corpus and one set of options always give the same ids:
/// most frequent first, ties broken by comparing the symbols' UTF-8 bytes. Symbols seen fewer
/// than `minCount` times are merged into one *unknown* symbol, placed last, which decodes as
/// U+FFFD and counts all the occurrences it stands for.
///
/// Symbols are compared by their exact bytes everywhere (lookup, equality), never with
/// `String ==`, which would call NFC "é" and NFD "é" the same symbol.
///
/// The JSON form (it lives inside checkpoints) is
/// `{"counts":[…],"symbols":[…],"unknownID":null}` with keys in that order under
/// `JSONEncoder`'s `.sortedKeys`.
public struct Vocabulary: Sendable {
    /// The symbols by id. At ``unknownID`` stands "\u{FFFD}", what the unknown symbol decodes to.
    public let symbols: [String]
    /// How often each symbol occurred in the corpus, by id.
    public let counts: [Int]
    /// The id of the unknown symbol, or nil when no symbol was merged into one.
    public let unknownID: Int?

    /// Symbol bytes to id. The unknown symbol's key is empty, which no real symbol is, so a
    /// real U+FFFD in the corpus keeps its own id.
    let table: SymbolTable
    /// Ids of the one-byte (ASCII) symbols, -1 where absent: English needs no hashing.
    let asciiIDs: [Int]

    /// The number of symbols, the unknown one included.
    public var count: Int { symbols.count }

    /// The number of symbols in the corpus (the sum of ``counts``).
    public var totalCount: Int { counts.reduce(0, +) }

    /// A vocabulary from its parts, as stored in a checkpoint.
    ///
    /// - Throws: ``TextError/invalidVocabulary(reason:)`` when the arrays differ in length, a
    ///   count is negative, a symbol is empty or repeated, or `unknownID` is out of range.
    public init(symbols: [String], counts: [Int], unknownID: Int?) throws(TextError) {
        guard symbols.count == counts.count else {
            throw .invalidVocabulary(reason: "\(symbols.count) symbols but \(counts.count) counts")
        }
        if let u = unknownID, !symbols.indices.contains(u) {
            throw .invalidVocabulary(reason: "unknown id \(u) outside 0..<\(symbols.count)")
        }
        if let bad = counts.firstIndex(where: { $0 < 0 }) {
            throw .invalidVocabulary(reason: "negative count for symbol \(bad)")
        }
        var table = SymbolTable(minimumCapacity: symbols.count)
        var ascii = [Int](repeating: -1, count: 128)
        for (id, symbol) in symbols.enumerated() {
            let key: [UInt8] = id == unknownID ? [] : Array(symbol.utf8)
            if key.isEmpty && id != unknownID {
                throw .invalidVocabulary(reason: "symbol \(id) is empty")
            }
            guard table.insert(key).inserted else {
                throw .invalidVocabulary(reason: "symbol \(SymbolEscaping.quoted(symbol)) appears twice")
            }
            if key.count == 1 { ascii[Int(key[0])] = id }
        }
        self.symbols = symbols
        self.counts = counts
        self.unknownID = unknownID
        self.table = table
        self.asciiIDs = ascii
    }

    /// Builds the vocabulary of `text` (a `String` has no BOM to drop and no invalid UTF-8).
    public init(counting text: String, options: TextOptions = TextOptions()) throws(TextError) {
        self = try Tokenizer.build(text: text, options: options, keepTokens: false).tokenizer.vocabulary
    }

    /// Builds the vocabulary of the UTF-8 `bytes` of a file (a leading BOM is dropped).
    /// `file` names the input in errors.
    public init(counting bytes: some Collection<UInt8>, file: String? = nil, options: TextOptions = TextOptions())
        throws(TextError)
    {
        self = try Tokenizer.build(bytes: bytes, file: file, options: options, keepTokens: false)
            .tokenizer.vocabulary
    }

    /// The id of `symbol`, compared by its exact UTF-8 bytes; nil when it is not in the
    /// vocabulary (the unknown symbol's "\u{FFFD}" is not looked up).
    public func id(of symbol: String) -> Int? {
        var s = symbol
        return s.withUTF8 { b in
            guard let p = b.baseAddress, !b.isEmpty else { return nil }
            return table.id(of: p, count: b.count)
        }
    }

    /// The symbol with id `id`, which must be in `0 ..< count`.
    public func symbol(for id: Int) -> String { symbols[id] }

    /// The bytes `id` decodes to.
    func decodedBytes(of id: Int) -> ArraySlice<UInt8> {
        id == unknownID ? UTF8Validation.replacement[...] : table.bytes(of: id)
    }
}

extension Vocabulary: Equatable {
    /// Equal when symbols (byte for byte), counts and unknown id are equal.
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.counts == b.counts && a.unknownID == b.unknownID && a.symbols.count == b.symbols.count
            && zip(a.symbols, b.symbols).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }
}

extension Vocabulary: CustomStringConvertible {
    /// The size and the first symbols with their counts, escaped, on one line.
    public var description: String {
        let shown = zip(symbols, counts).prefix(12).map { "\(SymbolEscaping.quoted($0)): \($1)" }
        let more = count > 12 ? ", …" : ""
        let unknown = unknownID.map { ", unknown \($0)" } ?? ""
        return "Vocabulary(\(count) symbols\(unknown): \(shown.joined(separator: ", "))\(more))"
    }
}

extension Vocabulary: Codable {
    private enum CodingKeys: String, CodingKey {
        case symbols, counts, unknownID
    }

    /// Decodes the JSON form, rejecting parts that do not fit (see ``init(symbols:counts:unknownID:)``)
    /// with `DecodingError.dataCorrupted`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let symbols = try c.decode([String].self, forKey: .symbols)
        let counts = try c.decode([Int].self, forKey: .counts)
        let unknownID = try c.decodeIfPresent(Int.self, forKey: .unknownID)
        do {
            try self.init(symbols: symbols, counts: counts, unknownID: unknownID)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Encodes the JSON form; `unknownID` is always written (`null` when there is none), so the
    /// form has the same keys for every vocabulary.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(symbols, forKey: .symbols)
        try c.encode(counts, forKey: .counts)
        if let unknownID {
            try c.encode(unknownID, forKey: .unknownID)
        } else {
            try c.encodeNil(forKey: .unknownID)
        }
    }
}

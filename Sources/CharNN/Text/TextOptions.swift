/// How a corpus is turned into symbols. Stored in every tokenizer (and so in checkpoints), so
/// that text at sampling time is cut exactly as the training text was.
public struct TextOptions: Codable, Sendable, Equatable, Hashable {
    /// What one symbol is; ``SymbolUnit/grapheme`` by default.
    public var unit: SymbolUnit
    /// The normalization applied before cutting; ``Normalization/nfc`` by default.
    public var normalization: Normalization
    /// Symbols seen fewer times than this while building a vocabulary are merged into one
    /// unknown symbol (which decodes as U+FFFD). 1, the default, keeps every symbol.
    public var minCount: Int
    /// When true, each invalid UTF-8 sequence becomes U+FFFD (one per maximal subpart, as
    /// Swift's `String(decoding:as:)` does) instead of being an error.
    public var replaceInvalid: Bool

    /// Creates options; every argument has the documented default.
    public init(
        unit: SymbolUnit = .grapheme,
        normalization: Normalization = .nfc,
        minCount: Int = 1,
        replaceInvalid: Bool = false
    ) {
        self.unit = unit
        self.normalization = normalization
        self.minCount = minCount
        self.replaceInvalid = replaceInvalid
    }

    private enum CodingKeys: String, CodingKey {
        case unit, normalization, minCount, replaceInvalid
    }

    /// Decodes options, taking the default for any key a checkpoint written by an older
    /// version does not have.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        unit = try c.decodeIfPresent(SymbolUnit.self, forKey: .unit) ?? .grapheme
        normalization = try c.decodeIfPresent(Normalization.self, forKey: .normalization) ?? .nfc
        minCount = try c.decodeIfPresent(Int.self, forKey: .minCount) ?? 1
        replaceInvalid = try c.decodeIfPresent(Bool.self, forKey: .replaceInvalid) ?? false
        if minCount < 1 {
            throw DecodingError.dataCorruptedError(
                forKey: .minCount, in: c, debugDescription: "minCount must be at least 1, got \(minCount)")
        }
    }
}

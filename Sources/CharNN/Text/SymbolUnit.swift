/// What one symbol of the vocabulary is: the unit a model reads and writes.
///
/// The choice decides how text is cut, not what text round-trips: with either unit,
/// decoding the encoded text gives back the normalized text byte for byte.
public enum SymbolUnit: String, Codable, Sendable, CaseIterable {
    /// An extended grapheme cluster (Unicode UAX #29), what a reader sees as one character:
    /// "é" written as e + U+0301, a flag made of two regional indicators, an emoji ZWJ family
    /// and CR LF are each one symbol. The default, because a model that samples one symbol at a
    /// time can then never emit half a character.
    case grapheme
    /// A Unicode scalar value (one code point). Smaller vocabularies on scripts that combine
    /// marks freely, but a sample may end in the middle of a grapheme.
    case scalar
}

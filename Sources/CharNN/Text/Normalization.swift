/// The Unicode normalization applied to text before it is cut into symbols.
///
/// Normalization makes canonically equivalent spellings (precomposed "é" and e + U+0301) one
/// symbol instead of two, so a model does not have to learn both. It is done by utf8proc,
/// not Foundation: Foundation's NFC runs below 1 MB/s on mixed scripts on Linux.
public enum Normalization: String, Codable, Sendable, CaseIterable {
    /// Canonical composition (NFC), the default: changes no visible text.
    case nfc
    /// Compatibility composition (NFKC): also folds ligatures, full-width forms, superscripts
    /// and the like into plain letters, which changes how the text looks.
    case nfkc
    /// No normalization: every byte sequence is kept as written.
    case none
}

import CUTF8Proc

extension Tokenizer {
    /// The Unicode version of the normalization and grapheme rules in force, as utf8proc reports
    /// it (e.g. "15.0.0"). Another version can normalize or segment some text differently, so
    /// checkpoints record it (docs/text.md).
    public static let unicodeVersion = String(cString: utf8proc_unicode_version())
}

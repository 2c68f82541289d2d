/// A tokenized corpus split for training: the last `validationFraction` of the symbols, contiguous,
/// is the validation split (nanoGPT's convention, so losses compare with published ones).
public struct TrainingData: Sendable {
    /// The tokenizer that produced the ids; the model's vocabulary is its vocabulary.
    public let tokenizer: Tokenizer
    /// The symbols trained on: all but the last `validationFraction` of them.
    public let train: TokenSequence
    /// The held-out symbols at the end of the corpus; empty when `validationFraction` is 0.
    public let validation: TokenSequence
    /// Identifies the whole corpus (both splits), so resuming on another text is refused.
    public let fingerprint: CorpusFingerprint

    /// Splits `tokens` (the whole corpus, tokenized by `tokenizer`): the last `validationFraction` of
    /// them, rounded down, become the validation split. `fileName` is recorded in the fingerprint.
    public init(tokenizer: Tokenizer, tokens: TokenSequence, validationFraction: Double, fileName: String) {
        let validationCount = Int((Double(tokens.count) * validationFraction).rounded(.down))
        let split = tokens.count - validationCount
        self.tokenizer = tokenizer
        self.train = tokens.slice(0..<split)
        self.validation = tokens.slice(split..<tokens.count)
        self.fingerprint = CorpusFingerprint(fileName: fileName, tokens: tokens)
    }
}

extension TokenSequence {
    /// The ids in `range`, in the same width.
    public func slice(_ range: Range<Int>) -> TokenSequence {
        switch self {
        case .u16(let ids): .u16(Array(ids[range]))
        case .u32(let ids): .u32(Array(ids[range]))
        // A view: the slice shares the mapping, nothing is copied.
        case .mapped(let tokens): .mapped(MappedTokens(mapping: tokens.mapping, offset: tokens.offset + range.lowerBound,
                                                       count: range.count))
        }
    }
}

/// A tokenized corpus split for training: the last `validationFraction` of the symbols, contiguous,
/// is the validation split (nanoGPT's convention, so losses compare with published ones).
public struct TrainingData: Sendable {
    public let tokenizer: Tokenizer
    public let train: TokenSequence
    public let validation: TokenSequence
    public let fingerprint: CorpusFingerprint

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
        }
    }
}

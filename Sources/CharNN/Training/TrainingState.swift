/// Everything besides weights and optimizer moments that a resumed run needs to continue exactly
/// where it stopped. Stored as JSON in the checkpoint's `__metadata__["training"]`; the carried
/// hidden state is stored beside it as the tensors `training.state_h` and `training.state_c`.
public struct TrainingState: Codable, Sendable, Equatable {
    /// Updates applied so far.
    public var step: Int
    /// The next batch's place in the training streams.
    public var cursor: BatchStreams.Cursor
    /// The dropout generator, mid-stream.
    public var rng: RandomGenerator
    /// The learning-rate plan, including a total fixed from a --time budget.
    public var learningRate: LearningRatePlan
    /// The lowest validation loss seen, in nats per symbol.
    public var bestValidationLoss: Double?
    /// Predictions each validation pass scores, fixed for the whole run once chosen (so every
    /// pass scores the same sample and losses compare); nil until the first session chooses it.
    public var validationSample: Int?
    /// Wall-clock seconds spent training across all sessions of this run.
    public var elapsedSeconds: Double
    /// The options the run was started with.
    public var options: TrainingOptions
    /// Identifies the corpus, so --resume on a different text is refused.
    public var corpus: CorpusFingerprint

    /// A state from its parts; a fresh run starts at step 0 with a default cursor.
    public init(step: Int, cursor: BatchStreams.Cursor, rng: RandomGenerator, learningRate: LearningRatePlan,
                bestValidationLoss: Double?, elapsedSeconds: Double, options: TrainingOptions, corpus: CorpusFingerprint,
                validationSample: Int? = nil) {
        self.validationSample = validationSample
        self.step = step
        self.cursor = cursor
        self.rng = rng
        self.learningRate = learningRate
        self.bestValidationLoss = bestValidationLoss
        self.elapsedSeconds = elapsedSeconds
        self.options = options
        self.corpus = corpus
    }
}

/// Enough about a corpus to notice that a run is being resumed on different text.
public struct CorpusFingerprint: Codable, Sendable, Equatable {
    /// The file name the run was started on (informational).
    public var fileName: String
    /// Symbols after tokenization.
    public var symbolCount: Int
    /// CRC-32C of the token ids.
    public var tokenChecksum: UInt32

    /// The fingerprint of `tokens`, the whole tokenized corpus read from the file named `fileName`.
    public init(fileName: String, tokens: TokenSequence) {
        self.fileName = fileName
        symbolCount = tokens.count
        var crc = CRC32C()
        switch tokens {
        case .u16(let ids): ids.withUnsafeBytes { crc.update($0) }
        case .u32(let ids): ids.withUnsafeBytes { crc.update($0) }
        case .mapped(let tokens) where tokens.width == 1:
            // As the same ids held as UInt16 would give, so a prepared corpus and its text agree.
            var block = [UInt16](repeating: 0, count: 1 << 16)
            var start = 0
            while start < tokens.count {
                let n = min(block.count, tokens.count - start)
                for k in 0..<n { block[k] = UInt16(tokens[start + k]) }
                block.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[..<(2 * n)])) }
                start += n
            }
        case .mapped(let tokens): crc.update(tokens.bytes)
        }
        tokenChecksum = crc.value
    }
}

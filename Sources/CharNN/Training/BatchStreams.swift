/// Cuts the training tokens into B contiguous streams (as char-rnn and torch-rnn do) and serves
/// the next T tokens of every stream at each step, time-major, with targets shifted by one.
///
/// Stream b reads positions b·L ..< (b+1)·L of the corpus, L = (n − 1) / B, so consecutive batches
/// continue each stream where the last one stopped and the carried hidden state stays meaningful.
/// An epoch is L / T steps; the few tokens past the last whole chunk of each stream are skipped.
public struct BatchStreams: Sendable {
    /// Number of streams, B: the batch size.
    public let batch: Int
    /// Symbols per stream in one batch, T: the sequence length the model is unrolled over.
    public let steps: Int
    /// Tokens per stream.
    public let streamLength: Int
    /// Steps in one pass over the training tokens.
    public let stepsPerEpoch: Int
    private let tokens: TokenSequence

    /// Where the next batch starts, saved in checkpoints so a resumed run reads the same batches.
    public struct Cursor: Codable, Sendable, Equatable {
        /// Completed epochs.
        public var epoch: Int = 0
        /// Steps already taken in the current epoch.
        public var position: Int = 0
        /// A cursor at `position` steps into epoch `epoch`; by default the start of the first epoch.
        public init(epoch: Int = 0, position: Int = 0) {
            self.epoch = epoch
            self.position = position
        }
    }

    /// Fails with ``TrainingError/corpusTooSmall(symbols:batch:sequenceLength:path:)`` when the tokens cannot fill
    /// one batch of B streams of T + 1 symbols.
    public init(tokens: TokenSequence, batch: Int, steps: Int) throws(TrainingError) {
        guard batch >= 1 else { throw .invalidOption(field: "batch", problem: "must be at least 1, got \(batch)") }
        guard steps >= 1 else { throw .invalidOption(field: "sequenceLength", problem: "must be at least 1, got \(steps)") }
        let length = tokens.count > 0 ? (tokens.count - 1) / batch : 0
        guard length >= steps else {
            throw .corpusTooSmall(symbols: tokens.count, batch: batch, sequenceLength: steps)
        }
        self.batch = batch
        self.steps = steps
        self.tokens = tokens
        self.streamLength = length
        self.stepsPerEpoch = length / steps
    }

    /// Fills `inputs` and `targets` ([T, B], time-major) with the batch at `cursor` and advances it.
    /// Returns true when this batch starts a new epoch, i.e. when the carried state must be reset.
    @discardableResult
    public func next(cursor: inout Cursor, inputs: inout [Int32], targets: inout [Int32]) -> Bool {
        precondition(inputs.count == batch * steps && targets.count == batch * steps)
        if cursor.position >= stepsPerEpoch {
            cursor.epoch += 1
            cursor.position = 0
        }
        let startsEpoch = cursor.position == 0
        let offset = cursor.position * steps
        tokens.fillTimeMajor(starts: (0..<batch).map { $0 * streamLength + offset }, steps: steps,
                             inputs: &inputs, targets: &targets)
        cursor.position += 1
        return startsEpoch
    }

    /// Fractional epochs completed at `cursor`, for progress and logs.
    public func epochProgress(_ cursor: Cursor) -> Double {
        Double(cursor.epoch) + Double(cursor.position) / Double(stepsPerEpoch)
    }
}

extension TokenSequence {
    /// For B streams starting at `starts`, the next `steps` symbols of each as inputs and the
    /// symbol after each as its target, time-major: element `t * B + b` is step t of stream b.
    /// The one batch layout shared by training and evaluation.
    func fillTimeMajor(starts: [Int], steps T: Int, inputs: inout [Int32], targets: inout [Int32]) {
        let B = starts.count
        precondition(inputs.count == B * T && targets.count == B * T)
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: T + 1) { chunk in
            for (b, start) in starts.enumerated() {
                copy(start..<(start + T + 1), into: chunk)
                for t in 0..<T {
                    inputs[t * B + b] = chunk[t]
                    targets[t * B + b] = chunk[t + 1]
                }
            }
        }
    }
}

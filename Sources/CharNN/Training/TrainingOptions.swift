/// Every hyperparameter of a training run, with the defaults a first-time user on a 2-core CPU
/// gets. Defaults live here and nowhere else: the CLI's help text reads them from this type.
public struct TrainingOptions: Codable, Sendable, Equatable {
    // The model. 2 × 384 with dropout 0.2 and a cosine decay won the 10-minute sweep in
    // docs/results.md (tinyshakespeare: 1.469 against 1.501 for 2 × 256 and 1.527 for the earlier
    // 2 × 256 without dropout at a constant rate).
    /// The recurrent cell of every layer (`--cell`): the LSTM, the GRU or the tanh RNN.
    public var cell = RecurrentCell.lstm
    /// Stacked recurrent layers (`--layers`, 1–64).
    public var layers = 2
    /// Units in each recurrent layer's hidden (and cell) state (`--hidden`, 1–16384).
    public var hiddenSize = 384
    /// Width of each symbol's learned embedding, the first layer's input (`--embedding`, 1–16384).
    public var embeddingSize = 64
    /// Probability of zeroing each recurrent layer's output during training, in [0, 1); 0 turns dropout off.
    public var dropout: Float = 0.2

    // The batches.
    /// Streams read in parallel, B: symbols per step are B × ``sequenceLength``.
    public var batch = 32
    /// Symbols per stream in one batch: the steps truncated backpropagation runs through (`--seq`).
    public var sequenceLength = 64

    // The optimizer.
    /// Adam's peak learning rate, reached after ``warmupSteps``; positive, at most 10.
    public var learningRate = 2e-3
    /// How the learning rate moves after warm-up.
    public var schedule = LearningRateSchedule.cosine
    /// Steps of linear warm-up from 0 to ``learningRate``; 0 for none.
    public var warmupSteps = 0
    /// Gradients whose global L2 norm exceeds this are scaled down to it before each update; positive.
    public var clip: Float = 5
    /// Decay of the moving average of the weights that is validated, saved and sampled; nil
    /// validates the raw weights (see ``WeightAverage``).
    public var averageDecay: Double?
    /// Probability of dropping each recurrent (hidden-to-hidden) weight for a step, in [0, 1): AWD-LSTM's
    /// weight drop (DropConnect on every layer's `W_hh`, one mask per step, survivors scaled by
    /// 1 / (1 − p)), against overfitting of the recurrence itself; 0 turns it off.
    public var weightDrop: Float = 0
    /// Draw each stream's dropout mask once per chunk of ``sequenceLength`` steps instead of at
    /// every step: locked (variational) dropout, as in AWD-LSTM, so a dropped unit stays dropped
    /// through the chunk. Needs ``dropout`` above 0.
    public var lockedDropout = false

    // The budget; with none given, ``defaultTimeBudget`` applies.
    /// Passes over the training split to run for (1–1000000), or nil for no epoch budget.
    public var epochs: Int?
    /// Total updates to stop after, counted from the run's first step (not this session's), or nil.
    public var maxSteps: Int?
    /// Wall-clock seconds this session may train for, or nil; the run stops at whichever budget ends first.
    public var timeBudgetSeconds: Double?

    // Validation and saving.
    /// Fraction of the corpus, taken from its end, held out for validation, in [0, 0.5]; 0 for no validation.
    public var validationFraction = 0.1
    /// Validation symbols each pass scores, a deterministic sample spread over the validation split
    /// (`--val-symbols`); nil sizes the sample so a pass costs about a tenth of the budget
    /// (the run's first session chooses it; see the README's Training section). A value at least the split's size scores all of it.
    public var validationSymbols: Int?
    /// Steps between validation passes; nil chooses ``automaticEvalEvery(validationSymbols:)``.
    public var evalEvery: Int?
    /// Steps between writes of `latest.safetensors` (a run also saves when it stops).
    public var saveEvery = 250

    // Reproducibility.
    /// Seeds weight initialization and dropout, so a run with the same options and corpus repeats exactly.
    public var seed: UInt64 = 1337
    /// Threads for training and validation (OpenBLAS and the batch's halves), 1–256.
    public var threads = 2

    /// The defaults, as listed on each property.
    public init() {}

    /// The wall-clock budget used when no --epochs, --steps or --time is given.
    public static let defaultTimeBudgetSeconds = 600.0

    /// Every 250 steps, or less often when a validation pass (over the whole validation split of
    /// V symbols) would take more than about a tenth of the training time. Scoring a symbol costs
    /// about a third of training on one, so passes stay at least (10/3)·V/(B·T) steps apart,
    /// rounded up to a multiple of 50 for tidy logs.
    public func automaticEvalEvery(validationSymbols: Int) -> Int {
        let costRatio = 10.0 / 3.0
        let steps = Int((Double(validationSymbols) * costRatio / Double(batch * sequenceLength)).rounded(.up))
        return max(250, (steps + 49) / 50 * 50)
    }

    /// The model these options describe, for a vocabulary of `vocabularySize` symbols.
    public func modelConfig(vocabularySize: Int) -> ModelConfig {
        ModelConfig(vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                    layers: layers, dropout: dropout, cell: cell)
    }

    /// Rejects values no run can use, naming the field (``TrainingError/invalidOption(field:problem:)``).
    public func validate() throws(TrainingError) {
        func positive(_ value: Int, _ field: String) throws(TrainingError) {
            guard value >= 1 else { throw .invalidOption(field: field, problem: "must be at least 1, got \(value)") }
        }
        try positive(layers, "layers")
        try positive(hiddenSize, "hiddenSize")
        try positive(embeddingSize, "embeddingSize")
        try positive(batch, "batch")
        try positive(sequenceLength, "sequenceLength")
        if let evalEvery { try positive(evalEvery, "evalEvery") }
        if let validationSymbols { try positive(validationSymbols, "validationSymbols") }
        try positive(saveEvery, "saveEvery")
        guard (1...256).contains(threads) else { throw .invalidOption(field: "threads", problem: "must be between 1 and 256, got \(threads)") }
        if let epochs {
            // Epochs are multiplied by the steps per epoch; a bound keeps that product in range.
            guard (1...1_000_000).contains(epochs) else { throw .invalidOption(field: "epochs", problem: "must be between 1 and 1000000, got \(epochs)") }
        }
        if let maxSteps { try positive(maxSteps, "maxSteps") }
        guard dropout >= 0 && dropout < 1 else { throw .invalidOption(field: "dropout", problem: "must be in [0, 1), got \(dropout)") }
        guard learningRate.isFinite && learningRate > 0 && learningRate <= 10 else {
            throw .invalidOption(field: "learningRate", problem: "must be a positive number no larger than 10, got \(learningRate)")
        }
        guard warmupSteps >= 0 else { throw .invalidOption(field: "warmupSteps", problem: "must be 0 or more, got \(warmupSteps)") }
        if let averageDecay, !(averageDecay > 0 && averageDecay < 1) {
            throw .invalidOption(field: "averageDecay", problem: "must be between 0 and 1 (for example 0.999), got \(averageDecay)")
        }
        guard weightDrop >= 0 && weightDrop < 1 else { throw .invalidOption(field: "weightDrop", problem: "must be in [0, 1), got \(weightDrop)") }
        if lockedDropout && !(dropout > 0) {
            throw .invalidOption(field: "lockedDropout", problem: "locks the dropout mask over time, so it needs a dropout above 0 (dropout is \(dropout))")
        }
        guard clip.isFinite && clip > 0 else { throw .invalidOption(field: "clip", problem: "must be a positive number, got \(clip)") }
        guard validationFraction.isFinite && validationFraction >= 0 && validationFraction <= 0.5 else {
            throw .invalidOption(field: "validationFraction", problem: "must be in [0, 0.5], got \(validationFraction)")
        }
        if let time = timeBudgetSeconds, !(time.isFinite && time > 0) {
            throw .invalidOption(field: "timeBudgetSeconds", problem: "must be a positive duration")
        }
        // Guard against sizes whose buffers could not be allocated on any machine.
        guard hiddenSize <= 16_384 else { throw .invalidOption(field: "hiddenSize", problem: "must be at most 16384, got \(hiddenSize)") }
        guard embeddingSize <= 16_384 else { throw .invalidOption(field: "embeddingSize", problem: "must be at most 16384, got \(embeddingSize)") }
        guard layers <= 64 else { throw .invalidOption(field: "layers", problem: "must be at most 64, got \(layers)") }
        let activations = Double(batch) * Double(sequenceLength) * Double(hiddenSize) * Double(layers) * 9
        guard activations < 4e9 else {
            throw .modelTooLarge(batch: batch, sequenceLength: sequenceLength, hiddenSize: hiddenSize, layers: layers)
        }
    }
}

extension TrainingOptions {
    private enum CodingKeys: String, CodingKey {
        case layers, hiddenSize, embeddingSize, dropout, batch, sequenceLength, learningRate, schedule, warmupSteps, clip,
             averageDecay, weightDrop, lockedDropout, epochs, maxSteps, timeBudgetSeconds, validationFraction, validationSymbols, evalEvery, saveEvery,
             seed, threads
        /// The sequence length's name before 0.2.0.
        case steps
    }

    /// Reads options as a checkpoint stores them. The model's shape (layers, sizes, dropout) is
    /// stored once, in the checkpoint's model entry, from format version 3 on; options from older
    /// checkpoints still carry it and it is read, to be checked against the model.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? layers
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? hiddenSize
        embeddingSize = try c.decodeIfPresent(Int.self, forKey: .embeddingSize) ?? embeddingSize
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? dropout
        batch = try c.decode(Int.self, forKey: .batch)
        sequenceLength = try c.decodeIfPresent(Int.self, forKey: .sequenceLength) ?? c.decode(Int.self, forKey: .steps)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        schedule = try c.decode(LearningRateSchedule.self, forKey: .schedule)
        warmupSteps = try c.decode(Int.self, forKey: .warmupSteps)
        clip = try c.decode(Float.self, forKey: .clip)
        averageDecay = try c.decodeIfPresent(Double.self, forKey: .averageDecay)
        weightDrop = try c.decodeIfPresent(Float.self, forKey: .weightDrop) ?? 0
        lockedDropout = try c.decodeIfPresent(Bool.self, forKey: .lockedDropout) ?? false
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps)
        timeBudgetSeconds = try c.decodeIfPresent(Double.self, forKey: .timeBudgetSeconds)
        validationFraction = try c.decode(Double.self, forKey: .validationFraction)
        validationSymbols = try c.decodeIfPresent(Int.self, forKey: .validationSymbols)
        evalEvery = try c.decodeIfPresent(Int.self, forKey: .evalEvery)
        saveEvery = try c.decode(Int.self, forKey: .saveEvery)
        seed = try c.decode(UInt64.self, forKey: .seed)
        threads = try c.decode(Int.self, forKey: .threads)
    }

    /// Writes every option but the model's shape, which the checkpoint keeps in its model entry.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(batch, forKey: .batch)
        try c.encode(sequenceLength, forKey: .sequenceLength)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(warmupSteps, forKey: .warmupSteps)
        try c.encode(clip, forKey: .clip)
        try c.encodeIfPresent(averageDecay, forKey: .averageDecay)
        // Written only when on, so a checkpoint without it reads as before in older versions.
        if weightDrop > 0 { try c.encode(weightDrop, forKey: .weightDrop) }
        if lockedDropout { try c.encode(lockedDropout, forKey: .lockedDropout) }
        try c.encodeIfPresent(epochs, forKey: .epochs)
        try c.encodeIfPresent(maxSteps, forKey: .maxSteps)
        try c.encodeIfPresent(timeBudgetSeconds, forKey: .timeBudgetSeconds)
        try c.encode(validationFraction, forKey: .validationFraction)
        try c.encodeIfPresent(validationSymbols, forKey: .validationSymbols)
        try c.encodeIfPresent(evalEvery, forKey: .evalEvery)
        try c.encode(saveEvery, forKey: .saveEvery)
        try c.encode(seed, forKey: .seed)
        try c.encode(threads, forKey: .threads)
    }

    /// These options with the model's shape taken from `config`.
    func withShape(of config: ModelConfig) -> TrainingOptions {
        var options = self
        (options.layers, options.hiddenSize, options.embeddingSize, options.dropout, options.cell) =
            (config.layers, config.hiddenSize, config.embeddingSize, config.dropout, config.cell)
        return options
    }
}


// What a TrainingRun tells its caller: the events while it works, the facts at its start, and how it ended.

/// What a training run reports while it works; the CLI turns these into the progress line.
public enum TrainingEvent: Sendable {
    /// The run is set up and about to take its first step.
    case started(TrainingStart)
    /// A step finished (sent after every step; throttle display yourself).
    case progress(ProgressSnapshot)
    /// A validation pass finished and was logged (the record's `valSymbols` says how many of the
    /// split's predictions, ``TrainingStart/validationSymbols`` − 1, it scored).
    case evaluated(EvaluationRecord, isBest: Bool)
    /// A checkpoint was written.
    case saved(path: String)
}

/// Facts about a run at its start.
public struct TrainingStart: Sendable {
    /// The run directory's path.
    public var runDirectory: String
    /// The step a resumed run continues from, or nil for a fresh run.
    public var resumedFromStep: Int?
    /// The model file a fine-tuning run started from (``FineTuning``), or nil.
    public var fineTunedFrom: String?
    /// Symbols a fine-tuning run added to the model's vocabulary (`--extend-vocab`), in id order.
    public var addedSymbols: [String] = []
    /// Symbols in the training split.
    public var trainSymbols: Int
    /// Symbols in the validation split (0 without one).
    public var validationSymbols: Int
    /// Distinct symbols the model knows.
    public var vocabularySize: Int
    /// Trainable parameters in the model.
    public var parameterCount: Int
    /// Steps in one pass over the training split.
    public var stepsPerEpoch: Int
    /// The step budget from `maxSteps` or `epochs` (the smaller), or nil when only time limits the run.
    public var totalSteps: Int?
    /// This session's time budget in seconds: `timeBudgetSeconds`, or ``TrainingOptions/defaultTimeBudgetSeconds``
    /// when no budget was given; nil when only steps limit the run.
    public var timeBudgetSeconds: Double?
    /// The model's shape.
    public var config: ModelConfig
    /// The options in effect (for a resumed run, the saved ones with this session's budget and cadence).
    public var options: TrainingOptions
}

/// How a run ended.
public enum StopReason: Sendable, Equatable {
    /// `stepBudget`: the `maxSteps` or `epochs` budget was reached; `timeBudget`: the session's time
    /// ran out; `interrupted`: `shouldStop` returned true (Ctrl-C in the CLI).
    case stepBudget, timeBudget, interrupted
}

/// The outcome of ``TrainingRun/run(events:shouldStop:)``.
public struct TrainingSummary: Sendable {
    /// Why the run stopped.
    public var reason: StopReason
    /// Updates applied in total, across sessions.
    public var step: Int
    /// Fractional epochs completed.
    public var epoch: Double
    /// The last step's training loss (nats per symbol), or nil if this session took no step.
    public var trainLoss: Double?
    /// The latest validation loss (nats per symbol), or nil if none was measured.
    public var validationLoss: Double?
    /// The lowest validation loss of the run (nats per symbol), the one `best.safetensors` holds.
    public var bestValidationLoss: Double?
    /// The latest validation pass: its sample size and standard error (nil if none ran this session).
    public var lastValidation: ValidationScore?
    /// Wall-clock seconds spent training, across all sessions.
    public var elapsedSeconds: Double
    /// This session's mean training speed, in symbols per second.
    public var charsPerSecond: Double
    /// The run directory's path.
    public var runDirectory: String
}

/// One training run's moving parts: the model, Adam, the batch streams with their cursor, the
/// carried hidden state and the dropout generator. ``step()`` takes one update; ``checkpoint()``
/// captures everything needed to continue bit-identically.
///
/// Buffers (workspace, gradients, batch arrays) are allocated once here, never per step.
public final class Trainer {
    /// The model being trained, with the raw (not averaged) weights.
    public private(set) var model: CharModel
    /// Adam, with its moments and update count.
    public private(set) var optimizer: AdamOptimizer
    /// Step, batch cursor, dropout generator, learning-rate plan, best validation loss and options.
    public private(set) var state: TrainingState
    /// The hidden and cell state carried from one batch to the next, reset at each epoch's start.
    public private(set) var carried: RecurrentState
    /// The moving average of the weights, when the run keeps one (`averageDecay`).
    public private(set) var average: WeightAverage?
    /// The corpus, split into training and validation symbols.
    public let data: TrainingData
    /// Serves the training batches, B streams of T symbols per step.
    public let streams: BatchStreams
    package let evaluator: Evaluator
    /// The processes training this model together (``ProcessGroup/single`` unless under mpirun):
    /// this one runs its share of the B streams, and the gradients meet once per step.
    public let group: ProcessGroup
    /// Seconds this process has spent in the per-step gradient allreduce (0 alone).
    public private(set) var communicationSeconds = 0.0

    private let pass: SplitBatchPass
    /// The recurrent weights' DropConnect mask, when the run has `weightDrop` > 0.
    private var weightDrop: WeightDrop?
    private var gradients: ParameterSet
    private var inputs: [Int32]
    private var targets: [Int32]

    /// A fresh run with newly initialized weights.
    /// Under data-parallel training, every rank of `group` builds the same run.
    public convenience init(data: TrainingData, options: TrainingOptions, group: ProcessGroup = .single) throws {
        try options.validate()
        let config = options.modelConfig(vocabularySize: data.tokenizer.vocabulary.count)
        try self.init(data: data, startingFrom: try CharModel(config: config, seed: options.seed), options: options,
                      group: group)
    }

    /// A fresh run (new optimizer, schedule, cursor and carried state) that starts from `model`'s
    /// weights: fine-tuning a trained model on `data`. The model's cell and sizes are fixed, so the
    /// options' must equal them (``TrainingError/invalidOption(field:problem:)`` names the first
    /// that differs); the options' dropout replaces the model's; `data` must be tokenized with a
    /// vocabulary of the model's size (``TrainingError/incompatibleModel(_:)``).
    public convenience init(data: TrainingData, startingFrom start: CharModel, options: TrainingOptions,
                            group: ProcessGroup = .single) throws {
        try options.validate()
        let c = start.config
        if options.cell != c.cell {
            throw TrainingError.invalidOption(field: "cell", problem: "must be the model's \(c.cell.rawValue), got \(options.cell.rawValue)")
        }
        for (field, given, has) in [("layers", options.layers, c.layers), ("hiddenSize", options.hiddenSize, c.hiddenSize),
                                    ("embeddingSize", options.embeddingSize, c.embeddingSize)] where given != has {
            throw TrainingError.invalidOption(field: field, problem: "must be the model's \(has), got \(given)")
        }
        guard data.tokenizer.vocabulary.count == c.vocabularySize else {
            throw TrainingError.incompatibleModel("the text's vocabulary has \(data.tokenizer.vocabulary.count) symbols but the model has \(c.vocabularySize)")
        }
        let config = options.modelConfig(vocabularySize: c.vocabularySize)
        let model = try CharModel(config: config, parameters: start.parameters)
        let streams = try BatchStreams(tokens: data.train, batch: options.batch, steps: options.sequenceLength)
        let plan = LearningRatePlan(
            base: options.learningRate, schedule: options.schedule, warmupSteps: options.warmupSteps,
            totalSteps: Self.plannedSteps(options, stepsPerEpoch: streams.stepsPerEpoch))
        let state = TrainingState(
            step: 0, cursor: .init(), rng: RandomGenerator(seed: options.seed ^ 0xD809_0D7E),
            learningRate: plan, bestValidationLoss: nil, elapsedSeconds: 0, options: options, corpus: data.fingerprint,
            validationSample: options.validationSymbols)
        try self.init(data: data, streams: streams, model: model, optimizer: AdamOptimizer(layout: model.parameters.layout),
                      state: state, carried: RecurrentState(layers: config.layers, batch: options.batch, hidden: config.hiddenSize),
                      average: options.averageDecay.map { WeightAverage(decay: $0, startingAt: model.parameters) },
                      group: group)
    }

    /// The designated initializer, shared by a fresh run and a resumed one (Checkpoint+Trainer.swift).
    init(data: TrainingData, streams: BatchStreams, model: CharModel, optimizer: AdamOptimizer,
                 state: TrainingState, carried: RecurrentState, average: WeightAverage?, group: ProcessGroup) throws {
        guard streams.batch >= group.size else { throw DistributedError.tooManyRanks(ranks: group.size, batch: streams.batch) }
        self.group = group
        self.data = data
        self.streams = streams
        self.model = model
        self.optimizer = optimizer
        self.state = state
        self.carried = carried
        self.average = average
        self.evaluator = Evaluator(tokens: data.validation, batch: streams.batch, steps: streams.steps)
        pass = try SplitBatchPass(config: model.config, batch: streams.batch, steps: streams.steps,
                                  share: group.streamShare(batch: streams.batch),
                                  locksDropoutOverTime: state.options.lockedDropout)
        gradients = ParameterSet(zerosFor: model.parameters.layout)
        weightDrop = WeightDrop(probability: state.options.weightDrop, layout: model.parameters.layout)
        inputs = [Int32](repeating: 0, count: streams.batch * streams.steps)
        targets = inputs
    }

    /// The steps a --steps or --epochs budget allows (the smaller if both), or nil for time only.
    static func plannedSteps(_ options: TrainingOptions, stepsPerEpoch: Int) -> Int? {
        let fromEpochs = options.epochs.map { $0 * stepsPerEpoch }
        switch (options.maxSteps, fromEpochs) {
        case let (s?, e?): return min(s, e)
        case let (s?, nil): return s
        case let (nil, e?): return e
        case (nil, nil): return nil
        }
    }

    /// Symbols consumed by one step (B × T).
    public var symbolsPerStep: Int { streams.batch * streams.steps }

    /// Fractional epochs completed.
    public var epoch: Double { streams.epochProgress(state.cursor) }

    /// The learning rate the next step will use.
    public var learningRate: Double { state.learningRate.rate(atStep: state.step) }

    /// Takes one update and returns its training loss. On a non-finite loss or gradient it leaves
    /// every part of the run as it was before the step and throws ``TrainingError/nonFiniteLoss(step:what:)``.
    @discardableResult
    public func step() throws -> Double {
        let before = (cursor: state.cursor, rng: state.rng, carried: carried)
        if streams.next(cursor: &state.cursor, inputs: &inputs, targets: &targets) {
            carried = RecurrentState(layers: carried.layers, batch: carried.batch, hidden: carried.hidden)
        }
        // With weight drop, forward and backward see the masked W_hh; the raw ones are back before
        // anything can throw, and their gradient goes through the mask.
        if weightDrop != nil { weightDrop!.apply(to: &model.parameters, seed: state.rng.next()) }
        let passed = Result {
            try pass.run(model: model, inputs: inputs, targets: targets, carried: &carried, rng: &state.rng,
                         threads: state.options.threads, into: &gradients)
        }
        weightDrop?.restore(&model.parameters)
        var loss = try passed.get()
        weightDrop?.maskGradient(&gradients)
        if group.size > 1 {
            // Each rank holds its share's part of the batch mean; their sum is the mean.
            let started = ContinuousClock.now
            try group.sum(&gradients.values)
            var losses = [loss]
            try group.sum(&losses)
            loss = losses[0]
            communicationSeconds += (ContinuousClock.now - started).seconds
        }
        let norm = clipGradientNorm(&gradients, maxNorm: state.options.clip)
        guard loss.isFinite, norm.isFinite else {
            (state.cursor, state.rng, carried) = before
            throw TrainingError.nonFiniteLoss(step: state.step + 1, what: loss.isFinite ? "the gradient" : "the loss")
        }
        optimizer.update(&model.parameters, gradients: gradients, learningRate: Float(learningRate))
        state.step += 1
        average?.update(with: model.parameters, step: state.step)
        return loss
    }

    /// Takes `steps` updates, calling `progress(step, loss)` after each; returns the last loss.
    /// The simplest way to train in a program: `try trainer.train(steps: 500)`.
    @discardableResult
    public func train(steps: Int, progress: (_ step: Int, _ loss: Double) -> Void = { _, _ in }) throws -> Double? {
        var last: Double?
        for _ in 0..<max(0, steps) {
            let loss = try step()
            last = loss
            progress(state.step, loss)
        }
        return last
    }

    /// The model to validate, save and sample: the weight average when the run keeps one, else
    /// the raw weights being trained.
    public var evaluatedModel: CharModel {
        guard let average else { return model }
        var averaged = model
        averaged.parameters = average.values
        return averaged
    }

    /// Mean validation loss (nats per symbol) of ``evaluatedModel`` over the whole validation
    /// split, or nil without one.
    public func evaluate() throws -> Double? {
        try evaluator.score(of: evaluatedModel, halves: pass.workspaces, threads: state.options.threads, sampleSymbols: nil,
                            share: pass.share, group: group)?.meanLoss
    }

    /// A validation pass of ``evaluatedModel`` over the run's sample of the validation split
    /// (``TrainingState/validationSample``; the whole split while none is chosen), or nil without
    /// a validation split.
    public func validate() throws -> ValidationScore? {
        try validate(isCancelled: { false })
    }

    /// As ``validate()``, stopping between chunks once `isCancelled` returns true: then it throws
    /// `ValidationCancelled` (on every rank, if any rank saw it) and the pass has no score.
    func validate(isCancelled: () -> Bool) throws -> ValidationScore? {
        try evaluator.score(of: evaluatedModel, halves: pass.workspaces, threads: state.options.threads,
                            sampleSymbols: state.validationSample, share: pass.share, group: group,
                            isCancelled: isCancelled)
    }

    /// Makes ``carried`` whole on every rank: each rank steps only its share's streams, so before
    /// a checkpoint the shares are gathered (a sum over ranks of each one's streams, others zeroed).
    /// A collective: every rank calls it at the same step. Nothing to do alone.
    public func gatherCarriedState() throws {
        guard group.size > 1 else { return }
        let share = pass.share, H = carried.hidden, B = carried.batch
        for k in 0..<carried.layers {
            for b in 0..<B where !share.contains(b) {
                let start = (k * B + b) * H
                for j in start..<(start + H) { carried.h[j] = 0; carried.c[j] = 0 }
            }
        }
        try group.sum(&carried.h)
        try group.sum(&carried.c)
    }

    /// Fixes the predictions each validation pass scores, for the rest of the run (see ``validate()``).
    public func setValidationSample(_ predictions: Int) {
        state.validationSample = max(1, predictions)
    }

    /// Records a validation loss; returns true if it is the best so far.
    public func recordValidation(_ loss: Double) -> Bool {
        guard loss < (state.bestValidationLoss ?? .infinity) else { return false }
        state.bestValidationLoss = loss
        return true
    }

    /// Adds wall-clock time to the run's total.
    public func addElapsed(_ seconds: Double) { state.elapsedSeconds += seconds }

    /// On resume: takes this session's budget, cadence and thread count from `options` (the model,
    /// batch shape and optimizer settings stay as saved) and re-spans a cosine schedule over a new
    /// --steps or --epochs total. A --val-symbols given now replaces the run's validation sample.
    public func updateSessionOptions(from options: TrainingOptions) {
        state.options.epochs = options.epochs
        state.options.maxSteps = options.maxSteps
        state.options.timeBudgetSeconds = options.timeBudgetSeconds
        state.options.evalEvery = options.evalEvery
        state.options.saveEvery = options.saveEvery
        state.options.threads = options.threads
        if let symbols = options.validationSymbols {
            state.options.validationSymbols = symbols
            state.validationSample = symbols
        }
        if let total = Self.plannedSteps(state.options, stepsPerEpoch: streams.stepsPerEpoch) {
            state.learningRate.totalSteps = total
        }
    }

    /// For a --time budget with a cosine schedule: fixes the schedule's length once, from the speed
    /// measured so far.
    public func fixScheduleLength(totalSteps: Int) {
        if state.learningRate.totalSteps == nil { state.learningRate.totalSteps = max(totalSteps, state.step + 1) }
    }
}

import Foundation

/// A whole `charnn train`: the loop with its budget, periodic validation, logging, plotting and
/// atomic checkpoints in a ``RunDirectory``.
public final class TrainingRun {
    /// The trainer the loop drives; its model and state are the run's.
    public let trainer: Trainer
    /// Where the run keeps its checkpoints, log and plot.
    public let directory: RunDirectory
    private var log: TrainingLog
    private var trainPoints: [(step: Int, loss: Double)] = []
    private var validationPoints: [(step: Int, loss: Double)] = []
    private let resumedFrom: Int?
    /// Set by a fine-tuning run's initializer, for the start event.
    var fineTuning: (from: String, added: [String])?
    /// The run directory's lock (from ``RunDirectory/prepare(_:)``), held for the run's lifetime.
    package var lock: RunLock? { watch.lock }
    /// Notices the directory being deleted or replaced mid-run.
    private let watch: RunDirectoryWatch
    /// Lines of `log.jsonl` that could not be read on resume (the original was kept as
    /// `log.jsonl.damaged`, the readable records carried over); empty when the log was sound.
    public private(set) var damagedLogLines: [Int] = []
    /// The step of the newest checkpoint on disk, named when a later save fails.
    private var savedStep: Int?
    /// The clock time up to which ``Trainer/addElapsed(_:)`` has counted.
    private var lastTick = ContinuousClock.now
    /// Seconds per prediction of the latest validation pass, to foresee the next one's cost.
    private var validationSecondsPerPrediction: Double?
    /// Seconds the latest `latest.safetensors` write took, to keep room for the last one.
    private var saveSeconds = 0.0

    /// Ill-formed UTF-8 sequences replaced by U+FFFD while reading the corpus (with `replaceInvalid`).
    public let replacedSequences: Int

    /// Opens the run in `directory` on the corpus file at `corpusPath`. A fresh run builds the
    /// vocabulary with `textOptions`; `.resume` reads `latest.safetensors` and encodes the corpus
    /// with the vocabulary stored there. `options` supply the model and batch shape of a fresh run,
    /// and the budget of either.
    public convenience init(corpusPath: String, textOptions: TextOptions, options: TrainingOptions,
                            directory: RunDirectory, mode: RunDirectory.OpenMode) throws {
        try options.validate()
        let lock = try directory.prepare(mode)
        let input: (data: TrainingData, checkpoint: Checkpoint?, replaced: Int)
        do {
            input = try Self.readInput(corpusPath: corpusPath, textOptions: textOptions, options: options,
                                       directory: directory, mode: mode)
        } catch {
            // A run that never started leaves no lock and no empty directory behind.
            directory.abandon(lock)
            throw error
        }
        try self.init(data: input.data, options: options, directory: directory, resuming: input.checkpoint,
                      replacedSequences: input.replaced, lock: lock)
    }

    /// Opens a run on already tokenized `data`, fresh or continuing `checkpoint`. The directory
    /// must have been prepared (``RunDirectory/prepare(_:)``); pass the lock it returned to have
    /// the run hold it until the run is freed.
    /// `startingFrom` (without `checkpoint`) starts the fresh run from that model's weights.
    package init(data: TrainingData, options: TrainingOptions, directory: RunDirectory, resuming checkpoint: Checkpoint?,
                startingFrom start: CharModel? = nil, replacedSequences: Int = 0, lock: RunLock? = nil) throws {
        self.directory = directory
        self.replacedSequences = replacedSequences
        watch = RunDirectoryWatch(directory: directory, lock: lock)
        savedStep = checkpoint?.training?.step
        let logURL = URL(fileURLWithPath: directory.log)
        if let checkpoint {
            trainer = try Trainer(data: data, resuming: checkpoint)
            trainer.updateSessionOptions(from: options)
            resumedFrom = trainer.state.step
            // Records written after the checkpoint (a crash between logging and saving) describe
            // steps that will be taken again: drop them, so the log holds each step once.
            let step = trainer.state.step
            var records: [EvaluationRecord] = []
            if FileManager.default.fileExists(atPath: directory.log) {
                do { records = try TrainingLog.read(url: logURL) } catch {
                    // A damaged line must not cost the whole history: keep every record that
                    // reads, and the original file beside the new one.
                    let readable = TrainingLog.readSkippingDamage(url: logURL)
                    records = readable.records
                    if let original = FileManager.default.contents(atPath: directory.log) {
                        try AtomicFile.write([UInt8](original), to: directory.log + ".damaged")
                    }
                    damagedLogLines = readable.damagedLines
                }
            }
            let kept = records.filter { $0.step <= step }
            try AtomicFile.write(Array(try kept.map { try $0.jsonLine() + "\n" }.joined().utf8), to: directory.log)
            for record in kept {
                trainPoints.append((record.step, record.trainLoss))
                if let v = record.valLoss { validationPoints.append((record.step, v)) }
            }
            log = try TrainingLog(url: logURL, truncate: false)
        } else {
            trainer = try start.map { (model) throws in try Trainer(data: data, startingFrom: model, options: options) }
                ?? Trainer(data: data, options: options)
            resumedFrom = nil
            log = try TrainingLog(url: logURL, truncate: true)
        }
    }

    /// Trains until the budget is spent or `shouldStop` returns true (checked after every step),
    /// then validates and saves `latest.safetensors`. A time budget covers that final validation
    /// and save too: training stops early enough for them to fit. Throws on a non-finite loss,
    /// keeping the last good checkpoint.
    public func run(events: (TrainingEvent) -> Void, shouldStop: () -> Bool) throws -> TrainingSummary {
        let options = trainer.state.options
        let totalSteps = Trainer.plannedSteps(options, stepsPerEpoch: trainer.streams.stepsPerEpoch)
        let timeBudget = options.timeBudgetSeconds ?? (totalSteps == nil ? TrainingOptions.defaultTimeBudgetSeconds : nil)
        let hasValidation = trainer.evaluator.predictionCount > 0
        OpenBLASRuntime.setThreads(options.threads)
        // Without a time budget the sample follows from the step budget alone: reproducible.
        if hasValidation && timeBudget == nil && trainer.state.validationSample == nil {
            chooseValidationSample(timeBudget: nil, trainingRate: nil, plannedSteps: totalSteps)
        }
        events(.started(TrainingStart(
            runDirectory: directory.path, resumedFromStep: resumedFrom, fineTunedFrom: fineTuning?.from,
            addedSymbols: fineTuning?.added ?? [], trainSymbols: trainer.data.train.count,
            validationSymbols: trainer.data.validation.count, vocabularySize: trainer.model.config.vocabularySize,
            parameterCount: trainer.model.parameters.layout.totalCount, stepsPerEpoch: trainer.streams.stepsPerEpoch,
            totalSteps: totalSteps, timeBudgetSeconds: timeBudget, config: trainer.model.config, options: options)))

        let clock = ContinuousClock()
        let sessionStart = clock.now
        lastTick = sessionStart
        var smoother = LossSmoother()
        var lastLoss: Double?
        var lastValidation: ValidationScore?
        var lastValidationLoss: Double? = validationPoints.last?.loss
        var speed = SpeedMeter()
        let startStep = trainer.state.step
        var reason = StopReason.stepBudget
        func sessionSeconds() -> Double { (clock.now - sessionStart).seconds }
        // What the run still has to do after its last step: one validation pass and one save.
        func closingSeconds() -> Double {
            (hasValidation ? expectedValidationSeconds(trainingRate: speed.overall, timeBudget: timeBudget) : 0) + saveSeconds
        }
        func validate(smoothed: Double) throws {
            if hasValidation && trainer.state.validationSample == nil {
                chooseValidationSample(timeBudget: timeBudget, trainingRate: speed.overall, plannedSteps: totalSteps)
            }
            if let score = try evaluate(trainLoss: smoothed, speed: speed.rate, events: events) {
                lastValidation = score
                lastValidationLoss = score.meanLoss
            }
        }

        while true {
            if let totalSteps, trainer.state.step >= totalSteps { reason = .stepBudget; break }
            if let timeBudget, sessionSeconds() + closingSeconds() >= timeBudget { reason = .timeBudget; break }
            if shouldStop() { reason = .interrupted; break }

            let loss: Double
            let stepStart = clock.now
            do { loss = try trainer.step() } catch {
                trainer.addElapsed((clock.now - lastTick).seconds)
                throw error
            }
            let now = clock.now
            // Elapsed time counts validation and saving too; the speed counts only training steps.
            trainer.addElapsed((now - lastTick).seconds)
            speed.add(symbols: trainer.symbolsPerStep, seconds: (now - stepStart).seconds)
            lastTick = now
            lastLoss = loss
            let smoothed = smoother.add(loss)
            let step = trainer.state.step
            if step - startStep == 20, let timeBudget {
                if hasValidation && trainer.state.validationSample == nil {
                    chooseValidationSample(timeBudget: timeBudget, trainingRate: speed.overall, plannedSteps: totalSteps)
                }
                if totalSteps == nil, trainer.state.learningRate.schedule == .cosine {
                    let perStep = sessionSeconds() / 20
                    trainer.fixScheduleLength(totalSteps: step + Int((timeBudget - sessionSeconds() - closingSeconds()) / perStep))
                }
            }
            events(.progress(snapshot(step: step, totalSteps: totalSteps, timeBudget: timeBudget, smoothed: smoothed,
                                      validation: lastValidationLoss, standardError: lastValidation?.standardError,
                                      speed: speed.rate, session: sessionSeconds(), closing: closingSeconds())))
            if step % evalEvery() == 0 { try validate(smoothed: smoothed) }
            if step % options.saveEvery == 0 { try save(events: events) }
        }
        if trainer.state.step > startStep && trainer.state.step % evalEvery() != 0, let smoothed = smoother.value {
            try validate(smoothed: smoothed)
        }
        try save(events: events)
        return TrainingSummary(
            reason: reason, step: trainer.state.step, epoch: trainer.epoch, trainLoss: lastLoss,
            validationLoss: lastValidationLoss, bestValidationLoss: trainer.state.bestValidationLoss,
            lastValidation: lastValidation, elapsedSeconds: trainer.state.elapsedSeconds + (clock.now - lastTick).seconds,
            charsPerSecond: speed.overall, runDirectory: directory.path)
    }

    /// Steps between validation passes: `--eval-every`, or spaced for the sample (or the whole
    /// split while no sample is chosen) to take about a tenth of the training time.
    private func evalEvery() -> Int {
        let options = trainer.state.options
        return options.evalEvery ?? options.automaticEvalEvery(
            validationSymbols: trainer.state.validationSample ?? trainer.data.validation.count)
    }

    private func chooseValidationSample(timeBudget: Double?, trainingRate: Double?, plannedSteps: Int?) {
        trainer.setValidationSample(ValidationSampling.sampleSize(
            available: trainer.evaluator.predictionCount, batch: trainer.streams.batch,
            symbolsPerStep: trainer.symbolsPerStep, timeBudget: timeBudget, trainingRate: trainingRate,
            plannedSteps: plannedSteps))
    }

    /// The expected cost of the next validation pass; before a sample is chosen, the most a
    /// time budget lets it cost.
    private func expectedValidationSeconds(trainingRate: Double, timeBudget: Double?) -> Double {
        let available = trainer.evaluator.predictionCount
        let predictions = min(available, trainer.state.validationSample ?? available)
        let expected = ValidationSampling.expectedSeconds(
            predictions: predictions, measuredSecondsPerPrediction: validationSecondsPerPrediction, trainingRate: trainingRate)
        if trainer.state.validationSample == nil, let timeBudget {
            return min(expected, timeBudget * ValidationSampling.budgetShare)
        }
        return expected
    }

    private func snapshot(step: Int, totalSteps: Int?, timeBudget: Double?, smoothed: Double, validation: Double?,
                          standardError: Double?, speed: Double, session: Double, closing: Double) -> ProgressSnapshot {
        var total = totalSteps
        var eta: Double?
        let perStep = speed > 0 ? Double(trainer.symbolsPerStep) / speed : nil
        // A validation pass every evalEvery steps, spread over the steps.
        let validationPerStep = expectedValidationSeconds(trainingRate: speed, timeBudget: timeBudget) / Double(evalEvery())
        if let totalSteps, let perStep {
            let left = max(0, totalSteps - step)
            eta = Double(left) * (perStep + validationPerStep) + (left > 0 ? closing : 0)
        }
        if let timeBudget {
            let remaining = max(0, timeBudget - session)
            if eta == nil || remaining < eta! {
                eta = remaining
                if let perStep { total = step + Int(max(0, remaining - closing) / (perStep + validationPerStep)) }
            }
        }
        return ProgressSnapshot(
            step: step, totalSteps: total, epoch: trainer.epoch, trainLoss: smoothed, valLoss: validation,
            valStandardError: standardError, charsPerSecond: speed, elapsedSeconds: trainer.state.elapsedSeconds,
            etaSeconds: eta, learningRate: trainer.learningRate)
    }

    /// Validates, logs, redraws the plot, and saves `best.safetensors` on a new best.
    private func evaluate(trainLoss: Double, speed: Double, events: (TrainingEvent) -> Void) throws -> ValidationScore? {
        try ensureDirectoryIntact()
        let started = ContinuousClock.now
        let validation = try trainer.validate()
        let now = ContinuousClock.now
        let seconds = (now - started).seconds
        if let validation, validation.predictions > 0 {
            validationSecondsPerPrediction = seconds / Double(validation.predictions)
        }
        // The record's elapsed time includes this pass.
        trainer.addElapsed((now - lastTick).seconds)
        lastTick = now
        let isBest = validation.map { trainer.recordValidation($0.meanLoss) } ?? false
        let step = trainer.state.step
        let record = EvaluationRecord(
            step: step, epoch: trainer.epoch, trainLoss: trainLoss, valLoss: validation?.meanLoss,
            valBPC: validation.map { EvaluationRecord.bitsPerCharacter(nats: $0.meanLoss) },
            valStandardError: validation?.standardError, valSymbols: validation?.predictions,
            valSeconds: validation == nil ? nil : seconds, learningRate: trainer.learningRate, charsPerSecond: speed,
            elapsedSeconds: trainer.state.elapsedSeconds)
        trainPoints.append((step, trainLoss))
        if let validation { validationPoints.append((step, validation.meanLoss)) }
        do {
            try log.append(record)
            try LossPlot.write(to: URL(fileURLWithPath: directory.plot), train: trainPoints, validation: validationPoints,
                               title: "charnn · \(trainer.data.fingerprint.fileName)")
            if isBest {
                try trainer.checkpoint().write(to: directory.best)
                events(.saved(path: directory.best))
            }
        } catch {
            // The directory may have gone between the check above and these writes.
            try ensureDirectoryIntact()
            if let error = error as? FileWriteError { throw RunError.saveFailed(error, keptStep: savedStep) }
            if case .system(let call, let path, let code)? = error as? TrainingLogError {
                let failure = FileWriteError(path: path, reason: "\(call) failed: \(String(cString: strerror(code)))")
                throw RunError.saveFailed(failure, keptStep: savedStep)
            }
            throw error
        }
        events(.evaluated(record, isBest: isBest))
        return validation
    }

    private func save(events: (TrainingEvent) -> Void) throws {
        try ensureDirectoryIntact()
        let started = ContinuousClock.now
        defer { saveSeconds = (ContinuousClock.now - started).seconds }
        do { try trainer.checkpoint().write(to: directory.latest) } catch {
            try ensureDirectoryIntact()
            // AtomicFile left the previous checkpoint in place.
            throw RunError.saveFailed(error, keptStep: savedStep)
        }
        savedStep = trainer.state.step
        events(.saved(path: directory.latest))
    }

    /// Before writing: if the run directory was deleted or replaced, recreates it, saves the
    /// model there and stops (see ``RunDirectoryWatch``).
    private func ensureDirectoryIntact() throws {
        try watch.ensureIntact(step: trainer.state.step) { try trainer.checkpoint().write(to: directory.latest) }
    }
}

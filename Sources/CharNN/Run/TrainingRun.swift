import Foundation

/// A whole `charnn train`: the loop with its budget, periodic validation, logging, plotting and
/// atomic checkpoints in a ``RunDirectory``.
public final class TrainingRun {
    /// The trainer the loop drives; its model and state are the run's.
    public let trainer: Trainer
    /// Where the run keeps its checkpoints, log and plot.
    public let directory: RunDirectory
    /// The log; nil on ranks other than 0, which write nothing.
    private var log: TrainingLog?
    private var trainPoints: [(step: Int, loss: Double)] = []
    private var validationPoints: [(step: Int, loss: Double)] = []
    private let resumedFrom: Int?
    /// Set by a fine-tuning run's initializer, for the start event.
    var fineTuning: (from: String, added: [String])?
    /// The run directory's lock (from ``RunDirectory/prepare(_:)``), held for the run's lifetime.
    package var lock: RunLock? { watch?.lock }
    /// Notices the directory being deleted or replaced mid-run (rank 0 only).
    private let watch: RunDirectoryWatch?
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
    ///
    /// Under data-parallel training (`group` of several ranks), every rank opens the same corpus
    /// (and checkpoint) from the same path; rank 0 alone takes the directory and writes to it.
    public convenience init(corpusPath: String, textOptions: TextOptions, options: TrainingOptions,
                            directory: RunDirectory, mode: RunDirectory.OpenMode, group: ProcessGroup = .single) throws {
        try options.validate()
        let opened = try Self.openTogether(group, open: {
            let lock = group.isRoot ? try directory.prepare(mode) : nil
            do {
                let input = try Self.readInput(corpusPath: corpusPath, textOptions: textOptions, options: options,
                                               directory: directory, mode: mode)
                return (input: input, lock: lock)
            } catch {
                // A run that never started leaves no lock and no empty directory behind.
                if let lock { directory.abandon(lock) }
                throw error
            }
        }, fingerprint: { opened in
            let corpus = opened.input.data.fingerprint
            return [Double(corpus.symbolCount), Double(corpus.tokenChecksum), Double(opened.input.checkpoint?.training?.step ?? -1)]
        }, abandon: { opened in if let lock = opened.lock { directory.abandon(lock) } })
        try self.init(data: opened.input.data, options: options, directory: directory, resuming: opened.input.checkpoint,
                      replacedSequences: opened.input.replaced, lock: opened.lock, group: group)
    }

    /// Opens a run on already tokenized `data`, fresh or continuing `checkpoint`. The directory
    /// must have been prepared (``RunDirectory/prepare(_:)``); pass the lock it returned to have
    /// the run hold it until the run is freed.
    /// `startingFrom` (without `checkpoint`) starts the fresh run from that model's weights.
    /// Ranks other than 0 (`group`) read and write nothing in `directory`.
    package init(data: TrainingData, options: TrainingOptions, directory: RunDirectory, resuming checkpoint: Checkpoint?,
                startingFrom start: CharModel? = nil, replacedSequences: Int = 0, lock: RunLock? = nil,
                group: ProcessGroup = .single) throws {
        self.directory = directory
        self.replacedSequences = replacedSequences
        watch = group.isRoot ? RunDirectoryWatch(directory: directory, lock: lock) : nil
        savedStep = checkpoint?.training?.step
        let logURL = URL(fileURLWithPath: directory.log)
        if let checkpoint {
            trainer = try Trainer(data: data, resuming: checkpoint, group: group)
            trainer.updateSessionOptions(from: options)
            resumedFrom = trainer.state.step
            guard group.isRoot else { return }
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
            trainer = try start.map { (model) throws in try Trainer(data: data, startingFrom: model, options: options, group: group) }
                ?? Trainer(data: data, options: options, group: group)
            resumedFrom = nil
            if group.isRoot { log = try TrainingLog(url: logURL, truncate: true) }
        }
    }

    /// Trains until the budget is spent or `shouldStop` returns true (checked after every step),
    /// then validates and saves `latest.safetensors`. A time budget covers that final validation
    /// and save too: training stops early enough for them to fit. Throws on a non-finite loss,
    /// keeping the last good checkpoint.
    ///
    /// Data-parallel, every rank runs this loop in step: rank 0 alone reports `events` and writes;
    /// a stop that any rank sees (its budget's clock, `shouldStop`) stops every rank after the same
    /// step, and the choices taken from a clock (the schedule's length, the validation sample) are
    /// rank 0's.
    public func run(events reportedEvents: (TrainingEvent) -> Void, shouldStop: () -> Bool) throws -> TrainingSummary {
        try withoutActuallyEscaping(reportedEvents) { reported in
            try run(reporting: trainer.group.isRoot ? reported : { _ in }, shouldStop: shouldStop)
        }
    }

    private func run(reporting events: @escaping (TrainingEvent) -> Void, shouldStop: () -> Bool) throws -> TrainingSummary {
        let group = trainer.group
        let options = trainer.state.options
        let totalSteps = Trainer.plannedSteps(options, stepsPerEpoch: trainer.streams.stepsPerEpoch)
        let timeBudget = options.timeBudgetSeconds ?? (totalSteps == nil ? TrainingOptions.defaultTimeBudgetSeconds : nil)
        let hasValidation = trainer.evaluator.predictionCount > 0
        OpenBLASRuntime.setThreads(options.threads)
        // Without a time budget the sample follows from the step budget alone: reproducible.
        if hasValidation && timeBudget == nil && trainer.state.validationSample == nil {
            try chooseValidationSample(timeBudget: nil, trainingRate: nil, plannedSteps: totalSteps)
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
        // Set when a stop came in the middle of a validation pass, which was then abandoned.
        var passCancelled = false
        func validate(smoothed: Double) throws {
            if hasValidation && trainer.state.validationSample == nil {
                try chooseValidationSample(timeBudget: timeBudget, trainingRate: speed.overall, plannedSteps: totalSteps)
            }
            do {
                if let score = try evaluate(trainLoss: smoothed, speed: speed.rate, events: events, isCancelled: shouldStop) {
                    lastValidation = score
                    lastValidationLoss = score.meanLoss
                }
            } catch is ValidationCancelled {
                passCancelled = true
            }
        }

        while true {
            if let totalSteps, trainer.state.step >= totalSteps { reason = .stepBudget; break }
            var stops = [0.0, 0.0]
            if let timeBudget, sessionSeconds() + closingSeconds() >= timeBudget { stops[0] = 1 }
            if shouldStop() { stops[1] = 1 }
            try group.maximum(&stops)
            if stops[0] != 0 { reason = .timeBudget; break }
            if stops[1] != 0 { reason = .interrupted; break }

            let loss: Double
            let stepStart = clock.now
            do { loss = try trainer.step() } catch {
                countElapsed(until: clock.now)
                throw error
            }
            let now = clock.now
            // Elapsed time counts validation and saving too; the speed counts only training steps.
            countElapsed(until: now)
            speed.add(symbols: trainer.symbolsPerStep, seconds: (now - stepStart).seconds)
            lastLoss = loss
            let smoothed = smoother.add(loss)
            let step = trainer.state.step
            if step - startStep == 20, let timeBudget {
                if hasValidation && trainer.state.validationSample == nil {
                    try chooseValidationSample(timeBudget: timeBudget, trainingRate: speed.overall, plannedSteps: totalSteps)
                }
                if totalSteps == nil, trainer.state.learningRate.schedule == .cosine {
                    let perStep = sessionSeconds() / 20
                    let planned = step + Int((timeBudget - sessionSeconds() - closingSeconds()) / perStep)
                    trainer.fixScheduleLength(totalSteps: Int(try group.broadcast(Double(planned))))
                }
            }
            events(.progress(snapshot(step: step, totalSteps: totalSteps, timeBudget: timeBudget, smoothed: smoothed,
                                      validation: lastValidationLoss, standardError: lastValidation?.standardError,
                                      speed: speed.rate, session: sessionSeconds(), closing: closingSeconds())))
            if step % evalEvery() == 0 { try validate(smoothed: smoothed) }
            // Every rank learns of a cancelled pass together (the pass agrees on it), so all stop here.
            if passCancelled { reason = .interrupted; break }
            if step % options.saveEvery == 0 { try save(events: events) }
        }
        // An interrupt saves at once, without a last validation pass: a pass over a large split can
        // take minutes, and under mpirun, SIGKILL follows the SIGTERM a second later
        // (odls_base_sigkill_timeout).
        if reason != .interrupted && trainer.state.step > startStep && trainer.state.step % evalEvery() != 0, let smoothed = smoother.value {
            try validate(smoothed: smoothed)
            if passCancelled { reason = .interrupted }
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

    /// Data-parallel, rank 0's choice (it follows from its clock) is every rank's.
    private func chooseValidationSample(timeBudget: Double?, trainingRate: Double?, plannedSteps: Int?) throws {
        let size = ValidationSampling.sampleSize(
            available: trainer.evaluator.predictionCount, batch: trainer.streams.batch,
            symbolsPerStep: trainer.symbolsPerStep, timeBudget: timeBudget, trainingRate: trainingRate,
            plannedSteps: plannedSteps)
        trainer.setValidationSample(Int(try trainer.group.broadcast(Double(size))))
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

    /// Adds the time since the last count to the run's elapsed time (``Trainer/addElapsed(_:)``).
    private func countElapsed(until now: ContinuousClock.Instant) {
        trainer.addElapsed((now - lastTick).seconds)
        lastTick = now
    }

    /// Validates, logs, redraws the plot, and saves `best.safetensors` on a new best.
    /// A pass that `isCancelled` stops throws `ValidationCancelled` and leaves no record.
    private func evaluate(trainLoss: Double, speed: Double, events: (TrainingEvent) -> Void,
                          isCancelled: () -> Bool) throws -> ValidationScore? {
        if trainer.group.isRoot { try ensureDirectoryIntact() }
        let started = ContinuousClock.now
        let validation: ValidationScore?
        do { validation = try trainer.validate(isCancelled: isCancelled) } catch let error as ValidationCancelled {
            countElapsed(until: ContinuousClock.now)  // the abandoned pass's time still counts
            throw error
        }
        let now = ContinuousClock.now
        let seconds = (now - started).seconds
        if let validation, validation.predictions > 0 {
            validationSecondsPerPrediction = seconds / Double(validation.predictions)
        }
        // The record's elapsed time includes this pass.
        countElapsed(until: now)
        let isBest = validation.map { trainer.recordValidation($0.meanLoss) } ?? false
        // Every rank has the same score, so the same isBest: the collective below is taken by all.
        if isBest { try trainer.gatherCarriedState() }
        guard trainer.group.isRoot else { return validation }
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
            try log?.append(record)
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
        try trainer.gatherCarriedState()
        try checkReplicasAgree()
        guard trainer.group.isRoot else { return }
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
        try watch?.ensureIntact(step: trainer.state.step) { try trainer.checkpoint().write(to: directory.latest) }
    }

    /// Data-parallel, before each save: every rank's weights must still be rank 0's (each applies
    /// the same update to the same allreduced gradient). A CRC-32C of the raw weights, compared.
    private func checkReplicasAgree() throws {
        let group = trainer.group
        guard group.size > 1 else { return }
        var crc = CRC32C()
        trainer.model.parameters.values.withUnsafeBytes { crc.update($0) }
        var both = [Double(crc.value), -Double(crc.value)]
        try group.maximum(&both)
        if both[0] != -both[1] {
            throw DistributedError.ranksDisagree("the ranks' weights differ at step \(trainer.state.step) (the gradient allreduce gave ranks different sums)")
        }
    }
}

import ArgumentParser
@_spi(Internals) import CharNN
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension LearningRateSchedule: ExpressibleByArgument {}
extension RecurrentCell: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let defaults = TrainingOptions()

    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a character-level LSTM (or GRU, or RNN) language model on a UTF-8 text file.",
        discussion: """
            The last --val-frac of the text is held out to measure how well the model predicts text it \
            has not seen (validation loss, in nats and bits per character: lower is better). Training \
            writes to checkpoints/<file name>/ (or --out): latest.safetensors (to resume), \
            best.safetensors (lowest validation loss, to sample from), log.jsonl and loss.svg (open it \
            in a browser).

            Stop at any time with Ctrl-C: the current step finishes (a validation pass under way is \
            abandoned), latest.safetensors is written, and the command to continue is printed. With no \
            --epochs, --steps or --time, training runs for \(TrainingDuration(seconds: TrainingOptions.defaultTimeBudgetSeconds)).

            With --json the progress goes to standard error and standard output gets one object when \
            the run ends: stop_reason (step_budget, time_budget or interrupted), steps, epochs, \
            elapsed_seconds, chars_per_second, final_train_loss, final_validation_loss, \
            best_validation_loss (nats/char; null when there is none), validation_symbols and \
            validation_standard_error (of the last validation pass; null without one), run_directory and corpus.

            Each validation pass scores the same deterministic sample of the validation split, spread \
            evenly over it, sized so a pass costs at most about a tenth of the budget (--val-symbols sets \
            it); the time a pass takes counts inside --time.

            Under Open MPI's mpirun (mpirun -np N charnn train …, N > 1) the N processes train one model \
            data-parallel: each runs its share of the --batch streams with --threads threads, the \
            gradients are summed once per step, and rank 0 alone prints and writes. Every rank reads the \
            corpus (and, resuming, the checkpoint) from the same path. Open MPI's library is loaded only \
            then (CHARNN_LIBMPI names another file); see docs/distributed.md.
            """
    )

    @Argument(help: ArgumentHelp("The UTF-8 text file to learn from, or a directory made by charnn prepare (read by memory mapping); - reads standard input (to its end, before training starts).", valueName: "corpus"))
    var corpus: String

    @OptionGroup(title: "Text") var text: TextArguments

    @Option(parsing: .unconditional, help: ArgumentHelp("The recurrent cell: lstm, gru (PyTorch's nn.GRU) or rnn (nn.RNN with tanh) (default: \(defaults.cell.rawValue)).", valueName: "cell"))
    var cell: RecurrentCell?
    @Option(parsing: .unconditional, help: ArgumentHelp("Stacked recurrent layers (default: \(defaults.layers)).", valueName: "n"))
    var layers: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Units in each recurrent layer; more learn more but train slower (default: \(defaults.hiddenSize)).", valueName: "n"))
    var hidden: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Size of each symbol's embedding vector (default: \(defaults.embeddingSize)).", valueName: "n"))
    var embedding: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Fraction of recurrent layer outputs zeroed at random during training, against overfitting; 0 to 0.9 (default: \(defaults.dropout)).", valueName: "p"))
    var dropout: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp("Parallel streams read side by side through the text (default: \(defaults.batch)).", valueName: "n"))
    var batch: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Symbols per stream per step; gradients flow back this far (default: \(defaults.sequenceLength)).", valueName: "n"))
    var seq: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Adam learning rate (default: \(defaults.learningRate)).", valueName: "rate"))
    var lr: Double?
    @Option(name: .customLong("lr-schedule"), parsing: .unconditional, help: ArgumentHelp("constant, or cosine: decay to a tenth of --lr by the end of the budget (default: \(defaults.schedule.rawValue)).", valueName: "schedule"))
    var lrSchedule: LearningRateSchedule?
    @Option(name: .customLong("warmup-steps"), parsing: .unconditional, help: ArgumentHelp("Steps over which the learning rate ramps up from 0 (default: \(defaults.warmupSteps)).", valueName: "n"))
    var warmupSteps: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Largest allowed gradient norm; larger gradients are scaled down to it (default: \(defaults.clip)).", valueName: "norm"))
    var clip: Float?
    @Option(name: .customLong("average-decay"), parsing: .unconditional, help: ArgumentHelp("Validate, save and sample with a moving average of the weights, each step keeping this fraction of it (for example 0.999, about the last 1000 steps); smooths the step-to-step noise of late training (default: off).", valueName: "beta"))
    var averageDecay: Double?
    @Option(name: .customLong("weight-drop"), parsing: .unconditional, help: ArgumentHelp("Fraction of the recurrent (hidden-to-hidden) weights dropped at random for each step, the same for every stream and time step: AWD-LSTM's weight drop, against overfitting of the recurrence; 0 to 0.9 (default: 0, off).", valueName: "p"))
    var weightDrop: Float?
    @Flag(name: .customLong("locked-dropout"), help: "Keep each stream's --dropout mask for the whole --seq window instead of drawing a new one at every step: locked (variational) dropout, as in AWD-LSTM, so a dropped unit stays dropped through the window. Needs --dropout above 0 (default: off).")
    var lockedDropout = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after N passes over the training text, counted over the whole run.", valueName: "n"))
    var epochs: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Stop at step N of the run (with --resume, continue up to step N).", valueName: "n"))
    var steps: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this much wall-clock time in this session, e.g. 90s, 10m, 2h, 1h30m.", valueName: "duration"))
    var time: String?

    @Option(name: .customLong("val-frac"), parsing: .unconditional, help: ArgumentHelp("Fraction of the text, taken from its end, held out for validation; 0 to 0.5 (default: \(defaults.validationFraction)).", valueName: "fraction"))
    var valFrac: Double?
    @Option(name: .customLong("val-symbols"), parsing: .unconditional, help: ArgumentHelp("Validation symbols each pass scores: a fixed sample spread over the validation text (default: sized so a pass takes at most about a tenth of the budget; all of it when that is less). Kept for the run; given with --resume it replaces the saved size.", valueName: "n"))
    var valSymbols: Int?
    @Option(name: .customLong("eval-every"), parsing: .unconditional, help: ArgumentHelp("Measure validation loss every N steps, and at the end (default: every 250 steps, or less often when the validation text is so long that scoring it would take over a tenth of the time).", valueName: "n"))
    var evalEvery: Int?
    @Option(name: .customLong("save-every"), parsing: .unconditional, help: ArgumentHelp("Write latest.safetensors every N steps, and at the end (default: \(defaults.saveEvery)).", valueName: "n"))
    var saveEvery: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Seed for weights and dropout; the same seed gives the same model, with any --threads (default: \(defaults.seed)).", valueName: "n"))
    var seed: UInt64?
    @Option(parsing: .unconditional, help: ArgumentHelp("CPU threads. With two or more, each of two threads runs half of the --batch streams through the whole model and their gradients are added once per step; validation scores the two halves the same way (default: \(defaults.threads)).", valueName: "n"))
    var threads: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Directory for this run's files (default: checkpoints/<corpus file name without extension>).", valueName: "dir"))
    var out: String?
    @Flag(help: "Continue the run in the output directory from its latest.safetensors. The model and batch shape come from the checkpoint; the budget, --eval-every, --save-every and --threads from this command.")
    var resume = false
    @Flag(help: "Start afresh, replacing the run already in the output directory.")
    var force = false
    @Option(name: .customLong("init-from"), parsing: .unconditional, help: ArgumentHelp("Fine-tune: start a new run from this trained model's weights, cell, sizes, vocabulary and text options, with a fresh optimizer and schedule (--cell, --layers, --hidden, --embedding and the text options cannot be given; --dropout defaults to the model's).", valueName: "model.safetensors"))
    var initFrom: String?
    @Flag(name: .customLong("extend-vocab"), help: "With --init-from: add the text's symbols that the model's vocabulary lacks to the model (new embedding rows drawn as at initialization, new output rows starting with a small probability), instead of stopping with the list of them.")
    var extendVocab = false
    @Flag(help: "Print only errors and the final summary.")
    var quiet = false
    @Flag(help: "Report progress on standard error and print one JSON summary object on standard output at the end.")
    var json = false

    func validate() throws {
        if resume && force { throw ValidationError("--resume and --force contradict each other; choose one") }
        if extendVocab && initFrom == nil { throw ValidationError("--extend-vocab needs --init-from (it adds symbols to a trained model)") }
        if initFrom != nil {
            if resume { throw ValidationError("--init-from starts a new run and --resume continues one; choose one") }
            // The model fixes these: refuse them by name rather than ignore them.
            let given = [(cell != nil, "--cell"), (layers != nil, "--layers"), (hidden != nil, "--hidden"), (embedding != nil, "--embedding")]
                .filter(\.0).map(\.1) + text.givenCuttingFlags
            if let flag = given.first {
                throw ValidationError("\(flag) cannot be given with --init-from: the model's cell, sizes and text options are fixed")
            }
        }
        if let time { _ = try parseTime(time) }
        let options = try trainingOptions()
        do { try options.validate() } catch { throw ValidationError(error.describe(naming: OptionNames.flag)) }
    }

    private func parseTime(_ text: String) throws -> Double {
        do { return try TrainingDuration(parsing: text).seconds } catch { throw ValidationError("--time: \(error.description)") }
    }

    func trainingOptions() throws -> TrainingOptions {
        var o = TrainingOptions()
        o.cell = cell ?? o.cell
        o.layers = layers ?? o.layers
        o.hiddenSize = hidden ?? o.hiddenSize
        o.embeddingSize = embedding ?? o.embeddingSize
        o.dropout = dropout ?? o.dropout
        o.batch = batch ?? o.batch
        o.sequenceLength = seq ?? o.sequenceLength
        o.learningRate = lr ?? o.learningRate
        o.schedule = lrSchedule ?? o.schedule
        o.warmupSteps = warmupSteps ?? o.warmupSteps
        o.clip = clip ?? o.clip
        o.averageDecay = averageDecay ?? o.averageDecay
        o.weightDrop = weightDrop ?? o.weightDrop
        o.lockedDropout = lockedDropout || o.lockedDropout
        o.epochs = epochs
        o.maxSteps = steps
        o.timeBudgetSeconds = try time.map(parseTime)
        o.validationFraction = valFrac ?? o.validationFraction
        o.validationSymbols = valSymbols
        o.evalEvery = evalEvery
        o.saveEvery = saveEvery ?? o.saveEvery
        o.seed = seed ?? o.seed
        o.threads = threads ?? o.threads
        return o
    }

    func run() throws {
        // Under mpirun -np N (N > 1) every rank runs this; rank 0 alone prints progress and writes.
        let group = try DistributedTraining.joinGroup()
        try DistributedTraining.reportingErrors(group) {
            try train(group: group)
        }
        group.finish()
    }

    private func train(group: ProcessGroup) throws {
        do {
            let directory = RunDirectory(path: out ?? RunDirectory.defaultPath(forCorpus: corpus))
            let run: TrainingRun
            if let initFrom {
                let start = FineTuning(modelPath: initFrom, extendVocabulary: extendVocab, dropout: dropout)
                run = try TrainingRun(corpusPath: corpus, fineTuning: start, options: try trainingOptions(), directory: directory,
                                      mode: force ? .force : .fresh, group: group)
            } else {
                run = try TrainingRun(
                    corpusPath: corpus, textOptions: text.options, options: try trainingOptions(), directory: directory,
                    mode: resume ? .resume : force ? .force : .fresh, group: group)
            }
            if !run.damagedLogLines.isEmpty {
                printDiagnostic("\(run.directory.log): line(s) \(run.damagedLogLines.map(String.init).joined(separator: ", ")) could not be read; kept the other records and saved the original as \(run.directory.log).damaged", kind: "note")
            }
            if let pid = run.lock?.staleHolder {
                printDiagnostic("took over \(run.directory.lockFile), left by charnn process \(pid) which is no longer running", kind: "note")
            }
            // Installed only now: until the first step there is nothing to save, so Ctrl-C may just end it.
            let signals = StopSignals.install()
            if run.replacedSequences > 0 {
                printDiagnostic("\(corpus): replaced \(run.replacedSequences) invalid UTF-8 sequence(s) with U+FFFD", kind: "note")
            }
            var reporter = TrainingReporter(quiet: quiet, toStandardError: json)
            let summary = try run.run(events: { reporter.handle($0) }, shouldStop: { signals.received != 0 })
            guard group.isRoot else {
                if summary.reason == .interrupted {
                    group.finish()
                    throw ExitCode(signals.received == SIGTERM ? 143 : 130)
                }
                return
            }
            if group.size > 1 { reporter.note(DistributedTraining.summary(of: run.trainer)) }
            reporter.finish(summary)
            if summary.reason == .interrupted {
                var command = "charnn train \(shellQuoted(corpus)) --resume"
                if let out { command += " --out \(shellQuoted(out))" }
                if corpus == TextFile.standardInputPath { command += " (with the same text on standard input)" }
                reporter.note("Interrupted; saved \(directory.latest). Continue with: \(command)")
            }
            if json { try JSONOutput.print(TrainSummaryReport(summary, corpus: corpus)) }
            if summary.reason == .interrupted {
                group.finish()
                throw ExitCode(signals.received == SIGTERM ? 143 : 130)
            }
        }
    }
}

/// `charnn train --json`: how the run ended, as one object (a missing loss as `null`).
private struct TrainSummaryReport: Encodable {
    var stopReason: String
    var steps: Int
    var epochs: Double
    var elapsedSeconds: Double
    var charsPerSecond: Double
    @Nullable var finalTrainLoss: Double?
    @Nullable var finalValidationLoss: Double?
    @Nullable var bestValidationLoss: Double?
    @Nullable var validationSymbols: Int?
    @Nullable var validationStandardError: Double?
    var runDirectory: String
    var corpus: String

    init(_ summary: TrainingSummary, corpus: String) {
        stopReason = switch summary.reason {
        case .stepBudget: "step_budget"
        case .timeBudget: "time_budget"
        case .interrupted: "interrupted"
        }
        steps = summary.step
        epochs = JSONOutput.finite(summary.epoch) ?? 0
        elapsedSeconds = JSONOutput.finite(summary.elapsedSeconds) ?? 0
        charsPerSecond = JSONOutput.finite(summary.charsPerSecond) ?? 0
        finalTrainLoss = JSONOutput.finite(summary.trainLoss)
        finalValidationLoss = JSONOutput.finite(summary.validationLoss)
        bestValidationLoss = JSONOutput.finite(summary.bestValidationLoss)
        validationSymbols = summary.lastValidation?.predictions
        validationStandardError = JSONOutput.finite(summary.lastValidation?.standardError)
        runDirectory = summary.runDirectory
        self.corpus = corpus
    }
}

/// SIGINT and SIGTERM only set a flag; the trainer checks it after each step, so a stop always
/// lands between steps and is followed by a clean save.
struct StopSignals: Sendable {
    private static let last = Atomic<Int32>(0)

    var received: Int32 { Self.last.load(ordering: .relaxed) }

    static func install() -> StopSignals {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in [SIGINT, SIGTERM] {
            _ = Glibc.signal(signal) { number in StopSignals.last.store(number, ordering: .relaxed) }
            sigaddset(&unblock, signal)
        }
        // A parent (a test runner, some process managers) may have started us with these blocked,
        // which would hold them pending forever.
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        return StopSignals()
    }
}

/// Single-quotes `text` for a POSIX shell when it holds anything but safe characters.
func shellQuoted(_ text: String) -> String {
    let safe = text.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0) }
    return safe && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

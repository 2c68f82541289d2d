@_spi(Internals) import CharNN
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Turns training events into what a person reads: on a terminal one live progress line
/// (redrawn at most 10 times a second); elsewhere a plain line per evaluation and every 10 s;
/// with --quiet only the final summary. With --json all of it goes to standard error, which
/// then gets the live line when it is a terminal, and standard output holds only the JSON summary.
struct TrainingReporter {
    let quiet: Bool
    let width: Int?
    /// Where the text goes: standard output, or standard error under --json.
    let descriptor: Int32
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var lastPlain = ContinuousClock.now
    private var lineShown = false
    /// Predictions in the whole validation split, to say when a pass scored only a sample of them.
    private var availableValidation = 0

    init(quiet: Bool, toStandardError: Bool = false) {
        self.quiet = quiet
        descriptor = toStandardError ? STDERR_FILENO : STDOUT_FILENO
        width = terminalWidth(fileDescriptor: descriptor)
    }

    private var live: Bool { width != nil && !quiet }

    mutating func handle(_ event: TrainingEvent) {
        guard !quiet else { return }
        switch event {
        case .started(let start):
            availableValidation = max(0, start.validationSymbols - 1)
            let c = start.config
            let what = start.resumedFromStep.map { "Resuming at step \($0)" }
                ?? start.fineTunedFrom.map { "Fine-tuning \($0)" } ?? "Training"
            emit("\(what): \(c.layers)×\(c.hiddenSize) \(c.cell.displayName), embedding \(c.embeddingSize), \(start.parameterCount) parameters; "
                + "\(start.vocabularySize) symbols in the vocabulary; \(start.trainSymbols) training and \(start.validationSymbols) validation symbols; "
                + "\(start.stepsPerEpoch) steps per epoch of \(start.options.batch)×\(start.options.sequenceLength) symbols. Writing to \(start.runDirectory)/")
            if !start.addedSymbols.isEmpty {
                emit("Added \(start.addedSymbols.count) symbol(s) to the model's vocabulary: \(start.addedSymbols.map(SymbolEscaping.quoted).joined(separator: " ")).")
            }
            if start.options.weightDrop > 0 {
                emit("Dropping \(start.options.weightDrop) of the recurrent weights each step (--weight-drop).")
            }
            if start.options.lockedDropout {
                emit("Keeping each stream's dropout mask for the whole --seq window (--locked-dropout).")
            }
            if let decay = start.options.averageDecay {
                emit("Validating and saving a moving average of the weights (--average-decay \(decay)).")
            }
            if let budget = start.timeBudgetSeconds, start.options.timeBudgetSeconds == nil {
                emit("No --epochs, --steps or --time given: training for \(TrainingDuration(seconds: budget)).")
            }
        case .progress(let snapshot):
            let now = ContinuousClock.now
            if live {
                guard now - lastDraw >= .milliseconds(100) else { return }
                lastDraw = now
                writeOut("\r" + ProgressLine.terminal(snapshot, width: max(20, width! - 1)) + "\u{1B}[K")
                lineShown = true
            } else if now - lastPlain >= .seconds(10) {
                lastPlain = now
                emit(ProgressLine.plain(snapshot))
            }
        case .evaluated(let record, let isBest):
            guard let val = record.valLoss, let bpc = record.valBPC else { return }
            let error = record.valStandardError.map { String(format: " ± %.4f", $0) } ?? ""
            var sample = ""
            if let scored = record.valSymbols, scored < availableValidation {
                sample = " on a sample of \(scored) of \(availableValidation) symbols"
                if let seconds = record.valSeconds { sample += String(format: " (%.1f s)", seconds) }
            }
            emit(String(format: "step %d: validation loss %.4f%@ nats/char (%.3f bits/char)%@%@", record.step, val, error, bpc,
                        sample, isBest ? ", best so far" : ""))
        case .saved:
            break
        }
    }

    mutating func finish(_ summary: TrainingSummary) {
        clearLine()
        let why = switch summary.reason {
        case .stepBudget: "reached the step budget"
        case .timeBudget: "time budget spent"
        case .interrupted: "interrupted"
        }
        var line = String(format: "Done (%@): step %d, epoch %.2f, %@ elapsed, %@ chars/s", why, summary.step, summary.epoch,
                          formatClock(seconds: summary.elapsedSeconds), ProgressLine.compactRate(summary.charsPerSecond))
        if let best = summary.bestValidationLoss {
            line += String(format: "; best validation loss %.4f nats/char (%.3f bits/char)", best, EvaluationRecord.bitsPerCharacter(nats: best))
            if let last = summary.lastValidation, last.isSample {
                line += " on a sample of \(last.predictions) of \(last.availablePredictions) validation symbols"
                if let error = last.standardError { line += String(format: " (standard error %.4f)", error) }
            }
        }
        emit(line + ". Files in \(summary.runDirectory)/")
    }

    /// A line after the run (the resume hint), where the other lines went.
    mutating func note(_ line: String) {
        emit(line)
    }

    /// Prints a whole line, first clearing a live progress line so the two don't mix.
    private mutating func emit(_ line: String) {
        clearLine()
        writeOut(line + "\n")
    }

    private mutating func clearLine() {
        if lineShown {
            writeOut("\r\u{1B}[K")
            lineShown = false
        }
    }

    private func writeOut(_ text: String) {
        fflush(nil)  // anything print() buffered first, in order
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

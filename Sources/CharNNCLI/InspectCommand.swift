import ArgumentParser
import CharNN
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a checkpoint and verify its checksum.",
        discussion: """
            With --json the report is one object with snake_case keys (file_bytes, format_version, \
            config, vocabulary_size, checksum_matches, problem, …).

            Exit status: 0 for a sound checkpoint, 65 when it is damaged (the report says how), 66 when \
            it cannot be read.
            """
    )

    @Argument(help: ArgumentHelp("The checkpoint file.", valueName: "checkpoint"))
    var checkpoint: String
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try reportingErrors {
            // Throws only when the file cannot be read at all: 66, as for every subcommand.
            let info = try CheckpointInfo.inspect(path: checkpoint)
            if json {
                try JSONOutput.print(info)
            } else {
                printReport(info)
            }
            if let problem = info.problem { throw CLIError(problem, exitCode: CLIError.dataError) }
        }
    }

    private func printReport(_ info: CheckpointInfo) {
        print("file:        \(info.path) (\(ByteCountFormatter.string(fromByteCount: Int64(info.fileBytes), countStyle: .file)))")
        print("format:      charnn checkpoint v\(info.formatVersion ?? "?"), \(info.contents ?? "?") (written by charnn \(info.charnnVersion ?? "?"))")
        if let c = info.config, let n = info.parameterCount {
            print("model:       \(c.layers)×\(c.hiddenSize) \(c.cell.displayName), embedding \(c.embeddingSize), dropout \(c.dropout), \(n) parameters")
        }
        if let size = info.vocabularySize {
            print("vocabulary:  \(size) symbols (\(info.unit ?? "?"), \(info.normalization ?? "?")): \(info.vocabularyPreview.joined(separator: " "))\(size > info.vocabularyPreview.count ? " …" : "")")
        }
        if let unicode = info.unicodeVersion {
            let note = unicode == Tokenizer.unicodeVersion ? "as this charnn" : "this charnn follows \(Tokenizer.unicodeVersion)"
            print("unicode:     \(unicode) (\(note))")
        }
        if let step = info.step {
            print("training:    step \(step), epoch \(info.epoch ?? 0)" + (info.bestValidationLoss.map { String(format: ", best validation loss %.4f nats/char", $0) } ?? "")
                  + (info.weightDrop.map { ", --weight-drop \($0)" } ?? "") + (info.lockedDropout ? ", --locked-dropout" : ""))
        }
        if let decay = info.averageDecay {
            print("weights:     moving average (--average-decay \(decay)); the raw weights training resumes from are stored as training.weights.*")
        }
        if let stored = info.storedChecksum, let computed = info.computedChecksum {
            print("checksum:    " + (info.checksumMatches ? "ok (CRC-32C \(computed))" : "MISMATCH: stored \(stored), computed \(computed): the tensor data is damaged"))
        }
    }
}

import ArgumentParser
import CharNN

/// `charnn export`: copies a checkpoint, optionally without the optimizer and training state.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a copy of a checkpoint, e.g. a small weights-only one to share.",
        discussion: """
            A full checkpoint holds the weights, Adam's two moment tensors (twice the weights' size), \
            the training state and the carried hidden state, so that training can resume exactly. \
            With --weights-only the copy keeps just the model, its configuration and the vocabulary: \
            about a third of the size, enough to sample and score, not to resume.
            """
    )

    @Argument(help: ArgumentHelp("The checkpoint to read.", valueName: "checkpoint"))
    var checkpoint: String

    @Argument(help: ArgumentHelp("Where to write the copy (written atomically; an existing file is replaced).", valueName: "output"))
    var output: String

    @Flag(name: .customLong("weights-only"), help: "Leave out the optimizer moments and the training state.")
    var weightsOnly = false

    func run() throws {
        try reportingErrors {
            let loaded = try Checkpoint.load(from: checkpoint)
            try (weightsOnly ? loaded.weightsOnly : loaded).write(to: output)
            print("wrote \(output)")
        }
    }
}

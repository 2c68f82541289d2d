import ArgumentParser
import CharNN

/// The process entry point: fixes OpenBLAS's kernel choice before any work, then parses the
/// command line.
@main
enum Entry {
    static func main() {
        OpenBLASRuntime.reexecWithPreferredEnvironmentIfNeeded(arguments: CommandLine.arguments)
        CharNNCommand.main()
    }
}

struct CharNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charnn",
        abstract: "Train character-level LSTM language models on any UTF-8 text, and sample from them.",
        discussion: """
            charnn reads text as Unicode (NFC-normalized grapheme clusters by default), so every script \
            round-trips exactly. Run `charnn help <subcommand>` for the options of each step.
            """,
        version: charnnVersion,
        subcommands: [TrainCommand.self, SampleCommand.self, EvalCommand.self, InspectCommand.self, ExportCommand.self, VocabCommand.self, DoctorCommand.self, BenchCommand.self]
    )
}

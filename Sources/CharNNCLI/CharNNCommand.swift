import ArgumentParser
@_spi(Internals) import CharNN

/// The process entry point: fixes OpenBLAS's kernel choice before any work, then parses the
/// command line.
@main
enum Entry {
    static func main() {
        OpenBLASRuntime.reexecWithPreferredEnvironmentIfNeeded(arguments: CommandLine.arguments)
        do {
            var command = try CharNNCommand.parseAsRoot()
            try command.run()
        } catch {
            CharNNCommand.exitReporting(error)
        }
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

    /// Exits for `error`. Help, `--version` and errors a subcommand already reported keep
    /// ArgumentParser's handling; a usage mistake becomes one line, `charnn: error: <what>`,
    /// like every other charnn error, instead of ArgumentParser's message plus usage block.
    static func exitReporting(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        if error is ExitCode || code == .success { exit(withError: error) }
        let subcommand = CommandLine.arguments.dropFirst().first { !$0.hasPrefix("-") }
            .flatMap { name in configuration.subcommands.first { $0._commandName == name }?._commandName }
        let help = subcommand.map { "charnn \($0) --help" } ?? "charnn --help"
        printDiagnostic("\(message(for: error)) (see \(help))")
        exit(withError: ExitCode(code.rawValue == 0 ? CLIError.usage : code.rawValue))
    }
}

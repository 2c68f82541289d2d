import ArgumentParser
@_spi(Internals) import CharNN

/// The process entry point: fixes OpenBLAS's kernel choice before any work, warns once if
/// `CHARNN_SIMD` names a variant this CPU cannot run, then parses the command line.
@main
enum Entry {
    static func main() {
        OpenBLASRuntime.reexecWithPreferredEnvironmentIfNeeded(arguments: CommandLine.arguments)
        if let warning = Activations.requestWarning { printDiagnostic(warning, kind: "warning") }
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

            Wherever a text file is expected (the corpus of train, the file of eval and vocab, \
            --prime-file of sample), - reads standard input. With --json a subcommand prints one JSON \
            object per line on standard output, with snake_case keys as in log.jsonl, and nothing else \
            there. Errors are one line on standard error, `charnn: error: <what>`.

            EXIT STATUS (the same failure gives the same status in every subcommand)
              0    success
              1    any other failure, e.g. a training run whose loss diverged
              64   bad usage: an unknown option, a value out of range
              65   bad data: invalid UTF-8, a binary file, a damaged checkpoint
              66   no input: a file or checkpoint that is missing or unreadable
              74   writing failed: a full disk, a run directory removed mid-run
              75   busy: another charnn is training in the same run directory
              130  train stopped by Ctrl-C (143: by SIGTERM), after saving
            """,
        version: charnnVersion,
        subcommands: [TrainCommand.self, PrepareCommand.self, SampleCommand.self, EvalCommand.self, InspectCommand.self, ExportCommand.self, VocabCommand.self, DoctorCommand.self, BenchCommand.self, ServeCommand.self]
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

import ArgumentParser
import CharNN

#if canImport(Glibc)
import Glibc
#endif

/// An error a subcommand reports as one line on standard error, `charnn: error: <message>`,
/// before exiting with ``exitCode``: no usage text, no stack trace.
///
/// Subcommands wrap their `run()` body in ``reportingErrors(_:)``, which turns any thrown
/// error into this form. Argument mistakes found by `validate()` stay `ValidationError`s, so
/// ArgumentParser shows the usage with them (exit status 64).
struct CLIError: Error, CustomStringConvertible {
    /// One line; newlines are replaced by spaces when printed.
    var message: String
    /// The process exit status, in 1...127 (sysexits(3) values where one fits).
    var exitCode: Int32

    var description: String { message }

    /// A generic failure (exit status 1).
    static let failure: Int32 = 1
    /// Bad command-line usage, EX_USAGE.
    static let usage: Int32 = 64
    /// The input data was wrong (e.g. not UTF-8), EX_DATAERR.
    static let dataError: Int32 = 65
    /// An input file was missing or unreadable, EX_NOINPUT.
    static let noInput: Int32 = 66
    /// Writing failed (a full disk, a vanished directory), EX_IOERR.
    static let ioError: Int32 = 74
    /// Busy: another process holds the run directory, EX_TEMPFAIL.
    static let busy: Int32 = 75

    init(_ message: String, exitCode: Int32 = CLIError.failure) {
        self.message = message
        self.exitCode = exitCode
    }

    /// The CLI's wording of a text-layer error, with the option that would help.
    init(_ error: TextError) {
        switch error {
        case .invalidUTF8:
            self.init("\(error); pass --replace-invalid to substitute U+FFFD", exitCode: Self.dataError)
        case .fileNotFound, .isDirectory, .unreadable:
            self.init(error.description, exitCode: Self.noInput)
        case .invalidMinCount:
            self.init(error.description, exitCode: Self.usage)
        case .symbolsNotInVocabulary, .invalidVocabulary, .notText:
            self.init(error.description, exitCode: Self.dataError)
        }
    }
}

extension CLIError {
    /// The CLI's exit status for a training error; the message names the flags (OptionNames).
    init(_ error: TrainingError) {
        let message = error.describe(naming: OptionNames.flag)
        switch error {
        case .invalidOption, .modelTooLarge: self.init(message, exitCode: Self.usage)
        case .unusableCorpus, .corpusTooSmall, .incompatibleResume, .symbolsNotInModel, .incompatibleModel:
            self.init(message, exitCode: Self.dataError)
        case .nonFiniteLoss: self.init(message, exitCode: Self.failure)
        }
    }

    /// The CLI's exit status for a run-directory error; the message names the flags (OptionNames).
    init(_ error: RunError) {
        let message = error.describe(naming: OptionNames.flag)
        switch error {
        case .unusableDirectory: self.init(message, exitCode: Self.usage)
        case .noCheckpointToResume: self.init(message, exitCode: Self.noInput)
        case .saveFailed, .runDirectoryVanished: self.init(message, exitCode: Self.ioError)
        case .runInUse: self.init(message, exitCode: Self.busy)
        case .runDirectoryExists: self.init(message, exitCode: Self.failure)
        }
    }
}

/// Writes `charnn: <kind>: <message>` as one line to standard error.
func printDiagnostic(_ message: String, kind: String = "error") {
    let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    var stderrStream = StandardError()
    print("charnn: \(kind): \(oneLine)", to: &stderrStream)
}

extension CLIError {
    /// The CLI's exit status for a checkpoint that cannot be used: 66 when it cannot be read
    /// (missing, a directory, no permission), 65 when it was read but is damaged, foreign or too new.
    init(_ error: CheckpointError) {
        switch error {
        case .unreadable: self.init(error.description, exitCode: Self.noInput)
        case .notSafeTensors, .notCharNN, .unsupportedVersion, .checksumMismatch, .metadataChecksumMismatch, .invalid:
            self.init(error.description, exitCode: Self.dataError)
        }
    }

    /// The CLI's exit status for a sampling error: a bad option is usage, a prime the model cannot
    /// read is data, a missing checkpoint is no input.
    init(_ error: PreparedCorpusError) {
        switch error {
        case .noInputFiles, .notPrepared: self.init(error.description, exitCode: Self.noInput)
        case .corrupt, .unsupportedVersion, .empty: self.init(error.description, exitCode: Self.dataError)
        case .outputExists: self.init(error.description, exitCode: Self.failure)
        case .cannotWrite: self.init(error.description, exitCode: Self.ioError)
        }
    }

    init(_ error: SamplingError) {
        let message = error.describe(naming: OptionNames.flag)
        switch error {
        case .invalidOption: self.init(message, exitCode: Self.usage)
        case .unknownPrimeSymbols: self.init(message, exitCode: Self.dataError)
        case .noCheckpoint: self.init(message, exitCode: Self.noInput)
        }
    }

    /// The one mapping from anything a subcommand throws to its message and exit status, so the
    /// same failure exits with the same status from every subcommand (see the root command's help).
    init(reporting error: any Error) {
        switch error {
        case let error as CLIError: self = error
        case let error as TextError: self.init(error)
        case let error as CheckpointError: self.init(error)
        case let error as TrainingError: self.init(error)
        case let error as RunError: self.init(error)
        case let error as FileWriteError: self.init(error.description, exitCode: Self.ioError)
        case let error as TrainingLogError: self.init(error.description, exitCode: Self.ioError)
        case let error as SamplingError: self.init(error)
        case let error as PreparedCorpusError: self.init(error)
        case let error as ModelError: self.init(error.description, exitCode: Self.dataError)
        case let error as DistributedError:
            if case .tooManyRanks = error { self.init(error.description, exitCode: Self.usage) }
            else { self.init(error.description, exitCode: Self.failure) }
        default: self.init(String(describing: error), exitCode: Self.failure)
        }
    }
}

/// Runs a subcommand's body; any error becomes one line on standard error and an exit status
/// between 1 and 127 (chosen by ``CLIError/init(reporting:)``), through ArgumentParser's
/// `ExitCode` (which prints nothing more).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let cli = CLIError(reporting: error)
        printDiagnostic(cli.message)
        throw ExitCode(cli.exitCode)
    }
}

/// Standard error as a `TextOutputStream`, for `print(_:to:)`. Writes straight to file
/// descriptor 2: unbuffered, so a message is out before the process exits.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { b in
            var offset = 0
            while offset < b.count {
                let n = Glibc.write(2, b.baseAddress! + offset, b.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

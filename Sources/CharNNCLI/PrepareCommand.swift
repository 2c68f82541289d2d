import ArgumentParser
@_spi(Internals) import CharNN
import Foundation

struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Tokenize text files once into a memory-mapped corpus directory for charnn train.",
        discussion: """
            Writes DIR/tokens.bin (every symbol's id as a little-endian integer of 1, 2 or 4 bytes, \
            the narrowest the vocabulary allows) and DIR/corpus.json (format version, text options, \
            vocabulary, symbol count, checksum, and the input files in order). charnn train DIR then \
            maps tokens.bin instead of reading text: memory stays flat however large the corpus is.

            Inputs are taken in the order given; a directory stands for every file under it, \
            recursively, sorted by path (byte order), skipping names that start with a dot. The \
            files are joined as they are, nothing added between them; each is cut on its own, so \
            end each with a newline for the result to equal training on their concatenation. \
            Training validates on the last --val-frac of the symbols: the end of the last file.

            Memory is bounded: inputs are mapped, not read, and tokenized in two streaming passes \
            (count, then encode). DIR appears only when complete; an existing DIR is refused \
            unless --force.

            Exit status: 0 on success, 1 when DIR exists, 64 for bad options, 65 for an input that \
            is not UTF-8 text, 66 for a missing input, 74 when DIR cannot be written.
            """
    )

    @Argument(help: ArgumentHelp("Text files or directories of them.", valueName: "input"))
    var inputs: [String]

    @Option(help: ArgumentHelp("The directory to write.", valueName: "dir"))
    var out: String

    @OptionGroup(title: "Text") var text: TextArguments

    @Flag(help: "Replace DIR if it exists (only once the new corpus is complete).")
    var force = false

    @Flag(help: "Print one JSON object: symbols, vocabulary_size, token_width, files, input_bytes, seconds, bytes_per_second, directory.")
    var json = false

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one input file or directory") }
        if inputs.contains(TextFile.standardInputPath) { throw ValidationError("prepare reads files, not standard input; save the text to a file first") }
    }

    func run() throws {
        try reportingErrors {
            let report = try CorpusPreparation.prepare(inputs: inputs, output: out, options: text.options, force: force)
            let info = report.info
            if info.replacedSequences > 0 {
                printDiagnostic("replaced \(info.replacedSequences) invalid UTF-8 sequence(s) with U+FFFD", kind: "note")
            }
            let rate = report.seconds > 0 ? Double(report.inputBytes) / report.seconds : 0
            if json {
                try JSONOutput.print(PrepareReport(
                    symbols: info.symbolCount, vocabularySize: info.tokenizer.vocabulary.count, tokenWidth: info.tokenWidth,
                    files: info.inputs.count, inputBytes: report.inputBytes, seconds: report.seconds, bytesPerSecond: rate,
                    directory: out))
            } else {
                print("Prepared \(info.symbolCount) symbols (\(info.tokenizer.vocabulary.count) distinct, \(info.tokenWidth) byte\(info.tokenWidth == 1 ? "" : "s") each) "
                    + "from \(info.inputs.count) file\(info.inputs.count == 1 ? "" : "s"), \(report.inputBytes) bytes, in "
                    + String(format: "%.1f s (%.1f MB/s)", report.seconds, rate / 1e6) + ". Train with: charnn train \(shellQuoted(out))")
            }
        }
    }
}

/// `charnn prepare --json`.
private struct PrepareReport: Encodable {
    var symbols: Int
    var vocabularySize: Int
    var tokenWidth: Int
    var files: Int
    var inputBytes: Int
    var seconds: Double
    var bytesPerSecond: Double
    var directory: String
}

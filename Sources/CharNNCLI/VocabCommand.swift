import ArgumentParser
@_spi(Internals) import CharNN

extension SymbolUnit: ExpressibleByArgument {}
extension Normalization: ExpressibleByArgument {}

/// The options that say how a corpus becomes symbols. An `@OptionGroup` so that every
/// subcommand that reads a corpus spells them the same way.
struct TextArguments: ParsableArguments {
    // Optional rather than defaulted, so that a subcommand can tell an option given at its default
    // value from one not given at all (`train --init-from` refuses both --unit grapheme and --unit
    // scalar: the model fixes the unit).
    @Option(help: ArgumentHelp(
        "What one symbol is: grapheme, an extended grapheme cluster (a user-perceived character, "
            + "such as e with an accent, a flag, an emoji family, or CR LF); or scalar, one Unicode "
            + "code point. Default: grapheme.",
        valueName: "unit"))
    var unit: SymbolUnit?

    @Option(name: .customLong("normalize"), help: ArgumentHelp(
        "Unicode normalization applied before cutting: nfc (canonical composition; changes no "
            + "visible text), nfkc (also folds ligatures, full-width and superscript forms), or none. "
            + "Default: nfc.",
        valueName: "form"))
    var normalization: Normalization?

    @Option(name: .customLong("min-count"), parsing: .unconditional, help: ArgumentHelp(
        "Symbols seen fewer than N times are merged into one unknown symbol, which decodes as "
            + "U+FFFD. Must be at least 1; 1, the default, keeps every symbol.",
        valueName: "N"))
    var minCount: Int?

    @Flag(name: .customLong("replace-invalid"), help: ArgumentHelp(
        "Replace each invalid UTF-8 sequence with U+FFFD and report how many on standard error, "
            + "instead of stopping at the first one."))
    var replaceInvalid = false

    func validate() throws {
        if let minCount, minCount < 1 {
            throw ValidationError("--min-count must be at least 1 (got \(minCount))")
        }
    }

    /// The flags among --unit, --normalize and --min-count given on the command line, in that order.
    var givenCuttingFlags: [String] {
        [(unit != nil, "--unit"), (normalization != nil, "--normalize"), (minCount != nil, "--min-count")]
            .filter(\.0).map(\.1)
    }

    var options: TextOptions {
        let defaults = TextOptions()
        return TextOptions(unit: unit ?? defaults.unit, normalization: normalization ?? defaults.normalization,
                           minCount: minCount ?? defaults.minCount, replaceInvalid: replaceInvalid)
    }
}

struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Print the vocabulary of a text file with counts, most frequent first.",
        discussion: """
            The file is read as UTF-8: a leading byte order mark is dropped, line endings are kept \
            (CR LF is one grapheme), and text is normalized before it is cut into symbols. Ties in \
            count are ordered by the symbols' UTF-8 bytes, so the same file always gives the same \
            ids. Invisible symbols are shown escaped in the table ("\\n", "\\t", "\\r\\n", "\\u{200D}").

            Exit status: 0 on success, 64 for bad options, 65 for invalid UTF-8, 66 when the file \
            cannot be read.
            """
    )

    @Argument(help: ArgumentHelp("The UTF-8 text file to read; - reads standard input.", valueName: "file"))
    var file: String

    @OptionGroup var text: TextArguments

    @Flag(help: ArgumentHelp(
        "Print one JSON object instead of a table: {\"unit\", \"normalization\", \"characters\" "
            + "(symbols in the file), \"size\" (vocabulary size), \"symbols\": [{\"symbol\", \"count\"}, …]}. "
            + "The unknown symbol, if any, is last and marked \"unknown\": true."))
    var json = false

    func run() throws {
        try reportingErrors {
            let options = text.options
            let corpus = try Tokenizer.build(fromFile: file, options: options, keepTokens: false)
            if options.replaceInvalid {
                let n = corpus.replacedSequences
                printDiagnostic(
                    "\(TextFile.displayName(file)): replaced \(n) invalid UTF-8 sequence\(n == 1 ? "" : "s") with U+FFFD", kind: "note")
            }
            let vocabulary = corpus.tokenizer.vocabulary
            print(json ? try jsonReport(vocabulary, options) : table(vocabulary, options), terminator: "")
        }
    }

    private func table(_ v: Vocabulary, _ options: TextOptions) -> String {
        let total = v.totalCount
        let unitName = options.unit == .grapheme ? "graphemes" : "scalars"
        var out = "# \(TextFile.displayName(file)): \(v.count) symbols, \(total) \(unitName), normalization \(options.normalization.rawValue)\n"
        let idWidth = max(2, String(max(v.count - 1, 0)).count)
        let countWidth = max(5, String(v.counts.first ?? 0).count, String(v.counts.max() ?? 0).count)
        out += pad("id", idWidth) + "  " + pad("count", countWidth) + "        %  symbol\n"
        for id in 0..<v.count {
            let share = total > 0 ? Double(v.counts[id]) * 100 / Double(total) : 0
            var row = pad(String(id), idWidth) + "  " + pad(String(v.counts[id]), countWidth) + "  "
            row += pad(formatPercent(share), 7) + "  " + SymbolEscaping.quoted(v.symbols[id])
            if id == v.unknownID { row += "  (unknown: symbols seen fewer than \(options.minCount) times)" }
            out += row + "\n"
        }
        return out
    }

    /// The `--json` object: keys sorted, as every charnn JSON output.
    private struct Report: Encodable {
        struct Entry: Encodable {
            var symbol: String
            var count: Int
            /// Present, and true, only for the unknown symbol.
            var unknown: Bool?
        }
        var unit: String, normalization: String, characters: Int, size: Int, symbols: [Entry]
    }

    private func jsonReport(_ v: Vocabulary, _ options: TextOptions) throws -> String {
        let entries = (0..<v.count).map { id in
            Report.Entry(symbol: v.symbols[id], count: v.counts[id], unknown: id == v.unknownID ? true : nil)
        }
        let report = Report(unit: options.unit.rawValue, normalization: options.normalization.rawValue,
                            characters: v.totalCount, size: v.count, symbols: entries)
        return try JSONOutput.line(report) + "\n"
    }
}

private func pad(_ s: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - s.count)) + s
}

/// A percentage with two decimals, without Foundation's locale-dependent formatting.
private func formatPercent(_ x: Double) -> String {
    let hundredths = Int((x * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}


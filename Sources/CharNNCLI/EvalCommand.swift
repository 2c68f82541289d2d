import ArgumentParser
@_spi(Internals) import CharNN
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure how well a model predicts a text file (lower loss is better).",
        discussion: """
            Prints the mean loss in nats and bits per character, the perplexity (e^loss: how many \
            equally likely choices the model is effectively torn between per symbol), the number of \
            symbols scored and how many the model never saw. The file is read in chunks with several \
            streams side by side, so memory stays flat whatever its size.

            With --json: one object with the keys file, nats_per_char, bits_per_char, perplexity, \
            symbols and unknown.
            """
    )

    @Argument(help: ArgumentHelp("The UTF-8 text file to score; - reads standard input.", valueName: "file"))
    var file: String
    @Option(help: ArgumentHelp("The checkpoint to use (default: the newest checkpoints/**/best.safetensors).", valueName: "path"))
    var checkpoint: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("float32, or bfloat16 to score the weights rounded as `charnn sample` uses them by default.", valueName: "format"))
    var precision = SamplingPrecision.float32
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try reportingErrors {
            let loaded = try Checkpoint.load(from: try resolveCheckpoint(checkpoint))
            let result = try Scorer(model: precision.applied(to: loaded.model), tokenizer: loaded.tokenizer).scoreFile(atPath: file)
            guard result.symbols > 0 else {
                throw CLIError("\(TextFile.displayName(file)): nothing to score: it needs at least two symbols the model knows",
                               exitCode: CLIError.dataError)
            }
            if json {
                struct Report: Encodable {
                    var file: String, natsPerChar: Double, bitsPerChar: Double, perplexity: Double, symbols: Int, unknown: Int
                }
                try JSONOutput.print(Report(file: file, natsPerChar: result.natsPerSymbol, bitsPerChar: result.bitsPerSymbol,
                                            perplexity: result.perplexity, symbols: result.symbols, unknown: result.unknown))
            } else {
                print(String(format: "loss %.4f nats/char, %.4f bits/char, perplexity %.2f", result.natsPerSymbol, result.bitsPerSymbol, result.perplexity))
                print("\(result.symbols) symbols scored, \(result.unknown) unknown to the model")
            }
        }
    }
}

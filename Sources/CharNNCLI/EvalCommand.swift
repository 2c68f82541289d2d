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
            symbols scored and how many the model never saw.

            By default the loss is that of reading the file once from its start: the state starts at \
            zero, the first symbol is context only, and every later symbol is predicted from all \
            symbols before it, so N symbols give N - 1 predictions (symbols the model never saw are \
            left out of the stream unless its vocabulary has an unknown symbol). It equals the loss \
            of PyTorch's nn.LSTM run over the whole text as one sequence. The text is read in chunks \
            of --seq steps with the state carried, so memory stays flat whatever the file's size.

            --parallel N trades exactness for speed on long files: it cuts the text (each 4 MiB piece \
            of the file) into N segments scored side by side, each starting from a zero state \
            --warmup symbols before its first prediction, so the loss is slightly higher than the \
            one-pass loss. The output names the mode it measured.

            With --json: one object with the keys file, nats_per_char, bits_per_char, perplexity, \
            symbols, unknown and mode.
            """
    )

    @Argument(help: ArgumentHelp("The UTF-8 text file to score; - reads standard input.", valueName: "file"))
    var file: String
    @Option(help: ArgumentHelp("The checkpoint to use (default: the newest checkpoints/**/best.safetensors).", valueName: "path"))
    var checkpoint: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("The number format to score in, as `charnn sample --precision` runs it: float32, bfloat16 (the weights rounded to bf16) or int8 (int8 weights and per-step int8 activations, read one symbol at a time through the sampler's own step, so the loss is the one int8 sampling sees; one pass only).", valueName: "format"))
    var precision = SamplingPrecision.float32
    @Option(parsing: .unconditional, help: ArgumentHelp("Score N segments side by side, an approximation of the one-pass loss (see above) that is faster on long files (default: one pass).", valueName: "n"))
    var parallel: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("With --parallel: symbols each segment reads unscored before its first prediction, from a zero state (default: 256).", valueName: "n"))
    var warmup: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Symbols per forward pass of each stream.", valueName: "n"))
    var seq = 256
    @Option(parsing: .unconditional, help: ArgumentHelp("CPU threads for the one-pass recurrence, 1 or 2: on AVX2 and AVX-512 CPUs its matrix products may use a second core; the loss does not depend on it.", valueName: "n"))
    var threads = 1
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if let parallel, !(1...4096).contains(parallel) { throw ValidationError("--parallel must be between 1 and 4096, got \(parallel)") }
        if let warmup {
            guard parallel != nil else { throw ValidationError("--warmup needs --parallel: one pass has no segments to warm up") }
            guard (0...1_000_000).contains(warmup) else { throw ValidationError("--warmup must be between 0 and 1000000, got \(warmup)") }
        }
        guard (1...100_000).contains(seq) else { throw ValidationError("--seq must be between 1 and 100000, got \(seq)") }
        guard (1...2).contains(threads) else { throw ValidationError("--threads must be 1 or 2, got \(threads)") }
        if precision.roundsActivations && parallel != nil {
            throw ValidationError("--parallel cannot be used with --precision \(precision.rawValue): it rounds activations per step, so it is scored one symbol at a time in one pass")
        }
    }

    func run() throws {
        try reportingErrors {
            let loaded = try Checkpoint.load(from: try resolveCheckpoint(checkpoint))
            let mode: ScoringMode = parallel.map { .parallel(streams: $0, warmup: warmup ?? 256) } ?? .onePass
            var scorer = precision.roundsActivations
                ? try Scorer.stepping(model: loaded.model, tokenizer: loaded.tokenizer, precision: precision, threads: threads)
                : try Scorer(model: precision.applied(to: loaded.model), tokenizer: loaded.tokenizer, mode: mode, steps: seq)
            scorer.threads = threads
            let result = try scorer.scoreFile(atPath: file)
            guard result.symbols > 0 else {
                throw CLIError("\(TextFile.displayName(file)): nothing to score: it needs at least two symbols the model knows",
                               exitCode: CLIError.dataError)
            }
            if json {
                struct Report: Encodable {
                    var file: String, natsPerChar: Double, bitsPerChar: Double, perplexity: Double, symbols: Int, unknown: Int, mode: String
                }
                try JSONOutput.print(Report(file: file, natsPerChar: result.natsPerSymbol, bitsPerChar: result.bitsPerSymbol,
                                            perplexity: result.perplexity, symbols: result.symbols, unknown: result.unknown, mode: mode.summary))
            } else {
                print(String(format: "loss %.4f nats/char, %.4f bits/char, perplexity %.2f", result.natsPerSymbol, result.bitsPerSymbol, result.perplexity))
                print("\(result.symbols) symbols scored, \(result.unknown) unknown to the model; \(mode.summary)")
            }
        }
    }
}

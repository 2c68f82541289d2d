import ArgumentParser
@_spi(Internals) import CharNN
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training and sampling speed on a corpus (prints JSON lines).",
        discussion: """
            Trains a fixed configuration for --warmup and then --iters steps on the given text, and \
            prints one JSON line with chars/s, achieved GFLOP/s (matrix FLOPs, counted as \
            ../shared/peers/common.py counts them: training = 3 × forward), peak resident memory and \
            the thread count. Then one line per number format (float32, bfloat16, int8) does the same for \
            batch-1 sampling, and with --step-streams one line per stream count and format for the \
            batched step that `charnn serve` runs (phases step, step_bf16, step_int8; chars/s is symbols/s \
            over all streams). scripts/compare-peers.sh runs it beside PyTorch.
            """
    )

    @Argument(help: ArgumentHelp("The UTF-8 text to train on.", valueName: "corpus"))
    var corpus: String
    @Option(help: "The recurrent cell: lstm, gru or rnn.") var cell = RecurrentCell.lstm
    @Option(help: "Stacked recurrent layers.") var layers = 2
    @Option(help: "Units per layer.") var hidden = 512
    @Option(help: "Embedding size.") var embedding = 64
    @Option(help: "Streams per batch.") var batch = 50
    @Option(help: "Steps per stream per batch.") var seq = 100
    @Option(help: "CPU threads.") var threads = 2
    @Option(help: "Untimed steps first.") var warmup = 3
    @Option(help: "Timed steps.") var iters = 20
    @Option(name: .customLong("sample-symbols"), help: "Symbols to sample, timed.") var sampleSymbols = 5000
    @Option(name: .customLong("step-streams"), help: ArgumentHelp(
        "Also time the step `charnn serve` runs with this many generations at once, in each precision: comma-separated stream counts, e.g. 1,8,32,128 (default: none).",
        valueName: "n,n,…"))
    var stepStreams: String?

    func validate() throws {
        for (value, name) in [(layers, "--layers"), (hidden, "--hidden"), (embedding, "--embedding"), (batch, "--batch"),
                              (seq, "--seq"), (threads, "--threads"), (iters, "--iters"), (sampleSymbols, "--sample-symbols")] where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        _ = try parsedStepStreams()
    }

    /// --step-streams as numbers, each at least 1.
    private func parsedStepStreams() throws -> [Int] {
        guard let stepStreams else { return [] }
        let parts = stepStreams.split(separator: ",", omittingEmptySubsequences: false)
        let counts = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, counts.count == parts.count, counts.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else {
            throw ValidationError("--step-streams takes comma-separated stream counts from 1 to 4096, e.g. 1,8,32, got '\(stepStreams)'")
        }
        return counts
    }

    func run() throws {
        try reportingErrors {
            let tokenized = try Tokenizer.build(fromFile: corpus)
            let data = TrainingData(tokenizer: tokenized.tokenizer, tokens: tokenized.tokens, validationFraction: 0,
                                    fileName: corpus)
            var benchmark = TrainingBenchmark(layers: layers, hidden: hidden, embedding: embedding, batch: batch, steps: seq,
                                              threads: threads, warmupIterations: warmup, iterations: iters,
                                              sampleSymbols: sampleSymbols)
            benchmark.cell = cell
            benchmark.stepStreams = try parsedStepStreams()
            for result in try benchmark.run(on: data) { try JSONOutput.print(result) }
        }
    }
}

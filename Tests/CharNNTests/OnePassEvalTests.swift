import CharNN
import Foundation
import Testing

/// `charnn eval`'s default number is the loss of one pass over the text with the state carried;
/// however the scorer cuts the text (forward chunks of T steps, file pieces of any byte size), it
/// must equal a single forward pass over the whole text.
@Suite("Eval: one pass over the text", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct OnePassEvalTests {
    /// Two rounds of the training corpus's lines: non-ASCII symbols (a combining accent, CJK, a
    /// ZWJ emoji sequence), CR LF line ends and a line of 1,600 bytes, so file pieces are cut both
    /// after LFs and inside a line.
    static func text() -> String {
        (contextLines + contextLines).joined() + "e\u{301}nd"
    }

    /// The loss of one forward pass over all of `ids` in a single [1, n − 1] workspace.
    static func singlePass(_ model: CharModel, _ ids: [Int32]) throws -> Double {
        let inputs = Array(ids.dropLast()), targets = Array(ids.dropFirst())
        let workspace = try ModelWorkspace(config: model.config, batch: 1, steps: inputs.count)
        var state = RecurrentState(layers: model.config.layers, batch: 1, hidden: model.config.hiddenSize)
        return try #require(try model.forward(tokens: inputs, targets: targets, state: &state, workspace: workspace))
    }

    @Test("chunked one-pass scoring equals one long forward pass, wherever the chunks cut")
    func chunkingInvariant() throws {
        let dir = try temporaryDirectory("onepass")
        let checkpoint = try Checkpoint.load(from: try trainContextModel(in: dir))
        let text = Self.text()
        try text.write(toFile: dir + "/text.txt", atomically: true, encoding: .utf8)
        let ids = Array(try checkpoint.tokenizer.encode(text).tokens)
        try #require(ids.count > 300)
        let reference = try Self.singlePass(checkpoint.model, ids)

        for steps in [1, 7, 64, 1000] {
            let scorer = try Scorer(model: checkpoint.model, tokenizer: checkpoint.tokenizer, steps: steps)
            let whole = try scorer.score(text)
            #expect(whole.symbols == ids.count - 1)
            #expect(abs(whole.natsPerSymbol - reference) < 1e-5, "T = \(steps): \(whole.natsPerSymbol) vs \(reference)")
            for chunkBytes in [5, 97, 1000] {
                let file = try scorer.scoreFile(atPath: dir + "/text.txt", chunkBytes: chunkBytes)
                #expect(file.symbols == ids.count - 1)
                #expect(abs(file.natsPerSymbol - reference) < 1e-5, "T = \(steps), pieces of \(chunkBytes) bytes: \(file.natsPerSymbol) vs \(reference)")
            }
        }
    }

    @Test("parallel segments: exact when the warm-up reaches the text's start, worse from cold starts")
    func parallelSegments() throws {
        let dir = try temporaryDirectory("segments")
        let checkpoint = try Checkpoint.load(from: try trainContextModel(in: dir))
        let text = Self.text()
        try text.write(toFile: dir + "/text.txt", atomically: true, encoding: .utf8)
        let ids = Array(try checkpoint.tokenizer.encode(text).tokens)
        let reference = try Self.singlePass(checkpoint.model, ids)

        // A warm-up as long as the text starts every segment from the text's first symbol, so each
        // reads exactly what one pass reads: any error in where segments start or end shows here.
        for (streams, chunkBytes) in [(1, 1 << 20), (3, 1 << 20), (5, 700), (16, 1 << 20)] {
            let exact = try Scorer(model: checkpoint.model, tokenizer: checkpoint.tokenizer,
                                   mode: .parallel(streams: streams, warmup: ids.count), steps: 9)
            let result = try exact.scoreFile(atPath: dir + "/text.txt", chunkBytes: chunkBytes)
            #expect(result.symbols == ids.count - 1)
            #expect(abs(result.natsPerSymbol - reference) < 1e-5, "\(streams) segments, pieces of \(chunkBytes): \(result.natsPerSymbol) vs \(reference)")
        }
        // This model uses its context: cold segments lose it, a short warm-up wins most of it back.
        func loss(warmup: Int) throws -> Double {
            try Scorer(model: checkpoint.model, tokenizer: checkpoint.tokenizer, mode: .parallel(streams: 8, warmup: warmup), steps: 9)
                .score(text).natsPerSymbol
        }
        let cold = try loss(warmup: 0), warm = try loss(warmup: 32)
        print("segments: one pass \(reference), 8 cold \(cold), 8 after 32 warm-up symbols \(warm)")
        #expect(cold - reference > 1e-3)
        #expect(abs(warm - reference) < (cold - reference) / 2)
    }

    @Test("eval refuses bad --parallel, --warmup, --seq and --threads in one line")
    func badOptions() throws {
        let dir = try temporaryDirectory("evalopts")
        try "abc".write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        for (arguments, option) in [(["--parallel", "0"], "--parallel"), (["--warmup", "3"], "--warmup"),
                                    (["--parallel", "2", "--warmup", "-1"], "--warmup"), (["--seq", "0"], "--seq"),
                                    (["--threads", "3"], "--threads")] {
            let run = try CharNNBinary.run(["eval", dir + "/t.txt"] + arguments)
            #expect(run.status != 0 && run.stderr.contains(option), "\(arguments): \(run.stderr)")
        }
    }
}

/// The lines of ``trainContextModel(in:steps:)``'s corpus.
let contextLines = ["ab\r\naab\r\n", "Le cœur a ses raisons\r\n", "春眠不觉晓，处处闻啼鸟。\r\n",
                    String(repeating: "abcé春 fox 👩‍👩‍👧 ", count: 60) + "e\u{301}nd\r\n",
                    "que la raison ne connaît point.\r\n", "The quick brown fox jumps over the lazy dog.\r\n"]

/// Trains, through the library, a small model that learns to use its context on a repetitive
/// corpus with non-ASCII symbols and CR LF line ends; returns its checkpoint's path.
func trainContextModel(in dir: String, steps: Int = 300, cell: RecurrentCell = .lstm) throws -> String {
    let corpus = (0..<30).map { _ in contextLines.joined() }.joined()
    try corpus.write(toFile: dir + "/corpus.txt", atomically: true, encoding: .utf8)
    var options = tinyTrainingOptions(steps: steps)
    // Long enough windows and a fast rate, so a few hundred steps learn the repeats.
    options.cell = cell
    options.hiddenSize = 32
    options.sequenceLength = 32
    options.dropout = 0
    options.learningRate = 1e-2
    options.evalEvery = 100
    options.saveEvery = 100
    let run = try TrainingRun(corpusPath: dir + "/corpus.txt", textOptions: TextOptions(), options: options,
                              directory: RunDirectory(path: dir + "/run"), mode: .fresh)
    _ = try run.run(events: { _ in }, shouldStop: { false })
    return dir + "/run/latest.safetensors"
}

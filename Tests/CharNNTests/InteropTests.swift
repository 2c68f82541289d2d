import CharNN
import Foundation
import Testing

/// Python opens a charnn checkpoint with the `safetensors` package, rebuilds the model in numpy
/// from the PyTorch names (Tests/Interop/numpy_forward.py), and must reproduce charnn's logits and
/// the one-pass loss `charnn eval` reports. (Tests/Interop/torch_eval.py --numpy shows that numpy
/// loss equals PyTorch's nn.LSTM to 1e-7; CI keeps numpy alone: the CPU torch wheel is 192 MB, 754 MB
/// installed, and its venv took 5.5 min to install here on a busy machine, against a 2-minute CI.)
///
/// The interpreter comes from CHARNN_INTEROP_PYTHON, which scripts/test sets up (a venv with numpy
/// and safetensors). Under CI the test must run; elsewhere it is skipped if Python is not set up.
@Suite("Checkpoint interop with Python", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct InteropTests {
    static let python = ProcessInfo.processInfo.environment["CHARNN_INTEROP_PYTHON"]
    static let required = ProcessInfo.processInfo.environment["CI"] != nil

    @Test("numpy reproduces charnn's logits from a checkpoint to 1e-4, for each cell", .enabled(if: python != nil || required),
          arguments: RecurrentCell.allCases)
    func numpyForward(cell: RecurrentCell) throws {
        let python = try #require(Self.python, "set CHARNN_INTEROP_PYTHON (scripts/test does) to run the interop test")
        let dir = try temporaryDirectory("interop")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 10)
        options.cell = cell
        let run = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                  directory: RunDirectory(path: dir + "/run"), mode: .fresh)
        _ = try run.run(events: { _ in }, shouldStop: { false })
        let checkpoint = try Checkpoint.load(from: dir + "/run/latest.safetensors")

        let encoding = try checkpoint.tokenizer.encode("Le cœur 春眠 fox 👩‍👩‍👧")
        let tokens = Array(encoding.tokens)
        let workspace = try ModelWorkspace(config: checkpoint.model.config, batch: 1, steps: tokens.count)
        var state = RecurrentState(layers: checkpoint.model.config.layers, batch: 1, hidden: checkpoint.model.config.hiddenSize)
        try checkpoint.model.forward(tokens: tokens, state: &state, workspace: workspace)
        let ours = workspace.logitsCopy()

        let data = try Self.numpyForward(python, [dir + "/run/latest.safetensors"] + tokens.map { String($0) })
        struct Output: Decodable { var logits: [[Double]]; var metadata_checksum_ok: Bool }
        let output = try JSONDecoder().decode(Output.self, from: data)
        #expect(output.metadata_checksum_ok, "Python's metadata_crc32c (docs/checkpoint-format.md) disagrees with charnn's")
        let theirs = output.logits.flatMap { $0 }
        try #require(theirs.count == ours.count)
        let worst = zip(ours, theirs).map { abs(Double($0) - $1) / max(abs($1), 1) }.max() ?? 0
        print("interop (\(cell)): \(tokens.count) steps × \(checkpoint.model.config.vocabularySize) logits, largest difference \(worst)")
        #expect(worst < 1e-4)
    }

    @Test("charnn eval's loss is numpy's one-pass loss to 1e-4, however the text is chunked, for each cell",
          .enabled(if: python != nil || required), arguments: RecurrentCell.allCases)
    func numpyOnePassLoss(cell: RecurrentCell) throws {
        let python = try #require(Self.python, "set CHARNN_INTEROP_PYTHON (scripts/test does) to run the interop test")
        let dir = try temporaryDirectory("interop-eval")
        let path = try trainContextModel(in: dir, cell: cell)
        let checkpoint = try Checkpoint.load(from: path)
        // Short, but long enough that segments starting cold would score it measurably worse.
        let text = "Le cœur a ses raisons\r\nque la raison ne connaît point.\r\n春眠不觉晓，处处闻啼鸟。\r\nThe quick brown fox jumps over the lazy dog.\r\n"
        try text.write(toFile: dir + "/short.txt", atomically: true, encoding: .utf8)
        let ids = Array(try checkpoint.tokenizer.encode(text).tokens)
        let data = try Self.numpyForward(python, [path, "--loss"] + ids.map { String($0) })
        struct Output: Decodable { var nats_per_symbol: Double; var predictions: Int }
        let reference = try JSONDecoder().decode(Output.self, from: data)
        try #require(reference.predictions == ids.count - 1)

        var scorer = try Scorer(model: checkpoint.model, tokenizer: checkpoint.tokenizer, steps: 16)
        for chunkBytes in [7, 40, 1 << 20] {
            let ours = try scorer.scoreFile(atPath: dir + "/short.txt", chunkBytes: chunkBytes)
            #expect(ours.symbols == reference.predictions)
            #expect(abs(ours.natsPerSymbol - reference.nats_per_symbol) < 1e-4, "chunks of \(chunkBytes) bytes: \(ours.natsPerSymbol) vs numpy \(reference.nats_per_symbol)")
        }
        let cli = try CharNNBinary.run(["eval", dir + "/short.txt", "--checkpoint", path, "--json"])
        struct CLIOutput: Decodable { var nats_per_char: Double; var symbols: Int }
        let printed = try JSONDecoder().decode(CLIOutput.self, from: Data(cli.stdout.utf8))
        #expect(printed.symbols == reference.predictions && abs(printed.nats_per_char - reference.nats_per_symbol) < 1e-4)
        // The reference tells the modes apart: cold segments score this text measurably worse.
        scorer.mode = .parallel(streams: 4, warmup: 0)
        let cold = try scorer.score(text)
        print("interop eval (\(cell)): \(ids.count) symbols, numpy \(reference.nats_per_symbol), 4 cold segments \(cold.natsPerSymbol)")
        #expect(cold.natsPerSymbol - reference.nats_per_symbol > 1e-3)
    }

    /// Runs Tests/Interop/numpy_forward.py and returns its standard output.
    static func numpyForward(_ python: String, _ arguments: [String]) throws -> Data {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/numpy_forward.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "numpy_forward.py failed")
        return data
    }
}

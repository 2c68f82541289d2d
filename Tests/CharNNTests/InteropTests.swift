import CharNN
import Foundation
import Testing

/// Python opens a charnn checkpoint with the `safetensors` package, rebuilds the model in numpy
/// from the PyTorch names (Tests/Interop/numpy_forward.py), and must reproduce charnn's logits.
///
/// The interpreter comes from CHARNN_INTEROP_PYTHON, which scripts/test sets up (a venv with numpy
/// and safetensors). Under CI the test must run; elsewhere it is skipped if Python is not set up.
@Suite("Checkpoint interop with Python")
struct InteropTests {
    static let python = ProcessInfo.processInfo.environment["CHARNN_INTEROP_PYTHON"]
    static let required = ProcessInfo.processInfo.environment["CI"] != nil

    @Test("numpy reproduces charnn's logits from a checkpoint to 1e-4", .enabled(if: python != nil || required))
    func numpyForward() throws {
        let python = try #require(Self.python, "set CHARNN_INTEROP_PYTHON (scripts/test does) to run the interop test")
        let dir = try temporaryDirectory("interop")
        let corpus = try writeSmallCorpus(in: dir)
        let run = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: tinyTrainingOptions(steps: 10),
                                  directory: RunDirectory(path: dir + "/run"), mode: .fresh)
        _ = try run.run(events: { _ in }, shouldStop: { false })
        let checkpoint = try Checkpoint.load(from: dir + "/run/latest.safetensors")

        let encoding = try checkpoint.tokenizer.encode("Le cœur 春眠 fox 👩‍👩‍👧")
        let tokens = Array(encoding.tokens)
        let workspace = try ModelWorkspace(config: checkpoint.model.config, batch: 1, steps: tokens.count)
        var state = RecurrentState(layers: checkpoint.model.config.layers, batch: 1, hidden: checkpoint.model.config.hiddenSize)
        try checkpoint.model.forward(tokens: tokens, state: &state, workspace: workspace)
        let ours = workspace.logitsCopy()

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/numpy_forward.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, dir + "/run/latest.safetensors"] + tokens.map { String($0) }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "numpy_forward.py failed")
        struct Output: Decodable { var logits: [[Double]]; var metadata_checksum_ok: Bool }
        let output = try JSONDecoder().decode(Output.self, from: data)
        #expect(output.metadata_checksum_ok, "Python's metadata_crc32c (docs/checkpoint-format.md) disagrees with charnn's")
        let theirs = output.logits.flatMap { $0 }
        try #require(theirs.count == ours.count)
        let worst = zip(ours, theirs).map { abs(Double($0) - $1) / max(abs($1), 1) }.max() ?? 0
        print("interop: \(tokens.count) steps × \(checkpoint.model.config.vocabularySize) logits, largest difference \(worst)")
        #expect(worst < 1e-4)
    }
}

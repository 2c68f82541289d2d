@_spi(Internals) import CharNN
import Foundation
import Testing

@Suite("Checkpoints record the tokenizer's Unicode version", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct UnicodeVersionTests {
    @Test("a checkpoint records utf8proc's Unicode version, and an export keeps the recorded one")
    func recorded() throws {
        #expect(Tokenizer.unicodeVersion.split(separator: ".").count == 3 && Tokenizer.unicodeVersion.first!.isNumber)
        let checkpoint = try CheckpointTests.fullCheckpoint()
        #expect(checkpoint.unicodeVersion == Tokenizer.unicodeVersion)
        let foreign = try CheckpointRobustnessTests.resealed(checkpoint.serialized()) { $0.metadata["unicode_version"] = "9.0.0" }
        let loaded = try Checkpoint(bytes: foreign)
        #expect(loaded.unicodeVersion == "9.0.0")
        #expect(try Checkpoint(bytes: loaded.weightsOnly.serialized()).unicodeVersion == "9.0.0")
    }

    @Test("loading under another Unicode version warns once on stderr, and still works", .timeLimit(.minutes(3)))
    func warnsOnce() throws {
        let dir = try temporaryDirectory("unicode-version")
        let checkpoint = try CheckpointTests.fullCheckpoint()
        let path = dir + "/old.safetensors"
        let same = dir + "/same.safetensors"
        try Data(CheckpointRobustnessTests.resealed(checkpoint.serialized()) { $0.metadata["unicode_version"] = "9.0.0" })
            .write(to: URL(fileURLWithPath: path))
        try Data(checkpoint.serialized()).write(to: URL(fileURLWithPath: same))
        let run = try CharNNBinary.run(["sample", "--checkpoint", path, "--length", "5", "--seed", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let warnings = run.stderr.split(separator: "\n").filter { $0.contains("warning") && $0.contains("Unicode 9.0.0") }
        #expect(warnings.count == 1, "\(run.stderr)")
        let quiet = try CharNNBinary.run(["sample", "--checkpoint", same, "--length", "5", "--seed", "1"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("Unicode"), "\(quiet.stderr)")
        let inspect = try CharNNBinary.run(["inspect", path])
        #expect(inspect.stdout.contains("unicode:     9.0.0 (this charnn follows \(Tokenizer.unicodeVersion))"), "\(inspect.stdout)")
    }
}

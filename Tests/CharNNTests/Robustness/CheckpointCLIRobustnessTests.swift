@_spi(Internals) import CharNN
import Foundation
import Testing

/// What the user sees for each bad checkpoint: one line naming the file and the problem from
/// every command that reads checkpoints, and the damaged file left as it was.
@Suite("Robustness: bad checkpoints on the command line", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct CheckpointCLIRobustnessTests {
    /// Damaged variants of a trained run's latest.safetensors, with the words their error must hold.
    static func damaged(_ bytes: [UInt8]) throws -> [(name: String, bytes: [UInt8], mentions: String)] {
        let headerEnd = 8 + CheckpointRobustnessTests.headerLength(bytes)
        var dataFlip = bytes
        dataFlip[headerEnd + 5] ^= 0x10
        var headerFlip = bytes
        let header = String(decoding: bytes[8..<headerEnd], as: UTF8.self)
        let at = header.utf8.distance(from: header.startIndex, to: header.range(of: #""embedding_size\":8"#)!.upperBound) - 1
        headerFlip[8 + at] ^= 0x01  // 8 → 9: still valid JSON
        var huge = bytes
        huge.replaceSubrange(0..<8, with: [0, 0, 0, 0, 0, 0, 0, 0x80])
        return [
            ("text", Array("not a checkpoint, just text\n".utf8), "header length"),
            ("truncated", Array(bytes[..<(bytes.count / 2)]), "data_offsets lie outside"),
            ("data-flip", dataFlip, "checksum mismatch"),
            ("header-flip", headerFlip, "header checksum mismatch"),
            ("huge-header", huge, "header length 9223372036854775808"),
            ("future", try CheckpointRobustnessTests.resealed(bytes) { $0.metadata["format_version"] = "7" }, "format version 7 is newer"),
            ("foreign", SafeTensorsFile(tensors: [("w", .init([1], shape: [1]))], metadata: [:]).serialized(), "without charnn's metadata"),
        ]
    }

    @Test("sample, eval, export and inspect refuse each damaged checkpoint in one line")
    func readers() throws {
        let dir = try temporaryDirectory("bad-checkpoints")
        let corpus = try trainTinyRun(in: dir, steps: 2)
        let good = try #require(fileBytes(dir + "/run/latest.safetensors"))
        for variant in try Self.damaged(good) {
            let path = dir + "/\(variant.name).safetensors"
            try Data(variant.bytes).write(to: URL(fileURLWithPath: path))
            for command in [["sample", "--checkpoint", path, "--length", "5"], ["eval", corpus, "--checkpoint", path],
                            ["export", path, dir + "/copy.safetensors"], ["inspect", path]] {
                let result = try CharNNBinary.run(command)
                expectCleanFailure(result, mentions: [path, variant.mentions], status: 65)  // read, but damaged or foreign
            }
            #expect(fileBytes(path) == variant.bytes, "a reader changed \(path)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/copy.safetensors"))
        }
    }

    @Test("--resume on a damaged latest.safetensors refuses and leaves the run as it was")
    func resume() throws {
        let dir = try temporaryDirectory("bad-resume")
        let corpus = try trainTinyRun(in: dir, steps: 2)
        let latest = dir + "/run/latest.safetensors"
        let good = try #require(fileBytes(latest))
        let log = fileBytes(dir + "/run/log.jsonl")
        for variant in try Self.damaged(good) {
            try Data(variant.bytes).write(to: URL(fileURLWithPath: latest))
            let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--resume", "--steps", "4"] + tinyTrainArguments)
            expectCleanFailure(result, mentions: [latest, variant.mentions], status: 65)
            #expect(fileBytes(latest) == variant.bytes && fileBytes(dir + "/run/log.jsonl") == log)
            #expect(!FileManager.default.fileExists(atPath: dir + "/run/" + RunLock.fileName))
        }
    }

    @Test("inspect: exit 66 for a file it cannot read, 65 for a damaged one, with the report on stdout")
    func inspectStatus() throws {
        expectCleanFailure(try CharNNBinary.run(["inspect", "/nonexistent/x.safetensors"]), mentions: ["/nonexistent/x.safetensors", "no such file"], status: 66)
        let dir = try temporaryDirectory("inspect-status")
        let path = dir + "/text.safetensors"
        try "plain text, long enough".write(toFile: path, atomically: true, encoding: .utf8)
        let damaged = try CharNNBinary.run(["inspect", path])
        expectCleanFailure(damaged, mentions: [path, "header length"], status: 65)
        #expect(damaged.stdout.contains("file:"))
    }
}

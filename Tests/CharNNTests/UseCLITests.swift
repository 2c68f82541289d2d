import CharNN
import Foundation
import Testing

@Suite("charnn sample, eval and inspect", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct UseCLITests {
    /// A model whose prediction ignores context: p(a) = 3/4, p(b) = 1/4 (zero weights, head bias
    /// [ln 3, 0]), so losses can be checked by hand.
    static func handCheckedCheckpoint(in dir: String) throws -> String {
        let vocabulary = try Vocabulary(symbols: ["a", "b"], counts: [3, 1], unknownID: nil)
        let tokenizer = Tokenizer(options: TextOptions(), vocabulary: vocabulary)
        var model = try CharModel(config: ModelConfig(vocabularySize: 2, embeddingSize: 2, hiddenSize: 3, layers: 1), seed: 1)
        model.parameters.zero()
        try model.parameters.setTensor("head.bias", [Float(log(3.0)), 0])
        let path = dir + "/hand.safetensors"
        try Checkpoint(model: model, tokenizer: tokenizer).write(to: path)
        return path
    }

    @Test("eval on a known tiny model gives the hand-checked loss")
    func evalHandChecked() throws {
        let dir = try temporaryDirectory("eval")
        let checkpoint = try Self.handCheckedCheckpoint(in: dir)
        // "abab": predictions b, a, b → −ln(1/4), −ln(3/4), −ln(1/4); "c" is unknown and left out.
        try "abacb".write(toFile: dir + "/text.txt", atomically: true, encoding: .utf8)
        let result = try CharNNBinary.run(["eval", dir + "/text.txt", "--checkpoint", checkpoint, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        struct Output: Decodable { var nats_per_char: Double; var bits_per_char: Double; var perplexity: Double; var symbols: Int; var unknown: Int }
        let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
        let expected = (2 * log(4.0) + log(4.0 / 3)) / 3
        #expect(abs(output.nats_per_char - expected) < 1e-5)
        #expect(abs(output.bits_per_char - expected / log(2.0)) < 1e-5)
        #expect(abs(output.perplexity - exp(expected)) < 1e-3)
        #expect(output.symbols == 3 && output.unknown == 1)
        let text = try CharNNBinary.run(["eval", dir + "/text.txt", "--checkpoint", checkpoint])
        #expect(text.stdout.contains("1.0201 nats/char") && text.stdout.contains("3 symbols scored, 1 unknown"))
        // bfloat16 rounds weight matrices only: the head bias ln 3 (1.09375 in bf16) stays exact.
        let half = try CharNNBinary.run(["eval", dir + "/text.txt", "--checkpoint", checkpoint, "--precision", "bfloat16"])
        #expect(half.status == 0 && half.stdout.contains("1.0201 nats/char"), "\(half.stdout)\(half.stderr)")
        // So does int8 (each row's scale is 0 for an all-zero matrix), read one symbol at a time.
        let int8 = try CharNNBinary.run(["eval", dir + "/text.txt", "--checkpoint", checkpoint, "--precision", "int8"])
        #expect(int8.status == 0 && int8.stdout.contains("1.0201 nats/char") && int8.stdout.contains("3 symbols scored, 1 unknown"),
                "\(int8.stdout)\(int8.stderr)")
        let sampled = try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--precision", "int8", "--length", "20", "--seed", "3", "--json"])
        #expect(sampled.status == 0 && sampled.stdout.contains("\"precision\":\"int8\""), "\(sampled.stdout)\(sampled.stderr)")
    }

    @Test("eval streams a file in chunks and scores every symbol once")
    func evalChunks() throws {
        let dir = try temporaryDirectory("chunks")
        let checkpoint = try Checkpoint.load(from: try Self.handCheckedCheckpoint(in: dir))
        let text = String(repeating: "ab\naab\n", count: 3000) + "ba"
        try text.write(toFile: dir + "/big.txt", atomically: true, encoding: .utf8)
        let scorer = try Scorer(model: checkpoint.model, tokenizer: checkpoint.tokenizer, steps: 7)
        let whole = try scorer.score(text)
        let chunked = try scorer.scoreFile(atPath: dir + "/big.txt", chunkBytes: 1000)
        #expect(chunked.symbols == whole.symbols && chunked.unknown == whole.unknown)
        #expect(abs(chunked.totalNats - whole.totalNats) < 1e-6 * whole.totalNats)
        // Newlines are unknown to this model: 6000 of them, left out.
        #expect(whole.unknown == 6000 && whole.symbols == 5 * 3000 + 2 - 1)
    }

    @Test("sample: the same seed gives the same text; --argmax conflicts; no checkpoint explains what to do")
    func sampleCLI() throws {
        let dir = try temporaryDirectory("samplecli")
        let corpus = try writeSmallCorpus(in: dir)
        let trained = try CharNNBinary.run(["train", corpus, "--out", dir + "/checkpoints/run", "--steps", "20"] + TrainCLITests.tiny)
        try #require(trained.status == 0, "\(trained.stderr)")
        let ck = dir + "/checkpoints/run/best.safetensors"
        let a = try CharNNBinary.run(["sample", "--checkpoint", ck, "--seed", "5", "--length", "80", "--prime", "The "])
        let b = try CharNNBinary.run(["sample", "--checkpoint", ck, "--seed", "5", "--length", "80", "--prime", "The "])
        #expect(a.status == 0 && a.stdout == b.stdout && a.stdout.hasPrefix("The "))
        let noEcho = try CharNNBinary.run(["sample", "--checkpoint", ck, "--seed", "5", "--length", "80", "--prime", "The ", "--no-echo"])
        #expect("The " + noEcho.stdout == a.stdout)
        // The bytes on stdout are valid UTF-8: decoding would turn a broken sequence into U+FFFD,
        // which the corpus does not hold. A hot, long sample reaches the multi-byte symbols.
        let hot = try CharNNBinary.run(["sample", "--checkpoint", ck, "--seed", "9", "--length", "2000", "--temperature", "1.5"])
        #expect(hot.status == 0 && hot.stdout.unicodeScalars.contains { $0.value > 0x7F } && !hot.stdout.contains("\u{FFFD}"),
                "\(hot.stderr)")
        let unseeded = try CharNNBinary.run(["sample", "--checkpoint", ck, "--length", "5"])
        #expect(unseeded.stderr.contains("--seed"))
        let conflict = try CharNNBinary.run(["sample", "--checkpoint", ck, "--argmax", "--temperature", "0.5"])
        #expect(conflict.status != 0 && conflict.stderr.contains("--argmax"))
        let badTemperature = try CharNNBinary.run(["sample", "--checkpoint", ck, "--temperature", "0"])
        #expect(badTemperature.status != 0 && badTemperature.stderr.contains("--temperature"))

        // A binary outside any clone finds neither a run of yours nor the pretrained model.
        let empty = try temporaryDirectory("nockpt")
        try FileManager.default.copyItem(atPath: CharNNBinary.url.path, toPath: empty + "/charnn")
        let lone = Process()
        lone.executableURL = URL(fileURLWithPath: empty + "/charnn")
        lone.arguments = ["sample"]
        lone.currentDirectoryURL = URL(fileURLWithPath: empty)
        let loneErr = Pipe()
        lone.standardError = loneErr
        lone.standardOutput = Pipe()
        try lone.run()
        let loneMessage = String(decoding: loneErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        lone.waitUntilExit()
        #expect(lone.terminationStatus != 0 && loneMessage.contains("charnn train"), "\(loneMessage)")
        // The clone's binary falls back to the committed pretrained model.
        if CheckpointDiscovery.pretrained(executable: CharNNBinary.url.path) != nil {
            let pretrained = try CharNNBinary.run(["sample", "--length", "20", "--seed", "1"], in: empty)
            #expect(pretrained.status == 0 && pretrained.stderr.contains("shakespeare.safetensors"), "\(pretrained.stderr)")
        }
        let found = try CharNNBinary.run(["sample", "--length", "3", "--seed", "1"], in: dir)
        #expect(found.status == 0 && found.stderr.contains("checkpoints/run/best.safetensors"), "\(found.stderr)")
        let count = try CharNNBinary.run(["sample", "--checkpoint", ck, "--seed", "2", "--length", "10", "--count", "3", "--separator", "\n---\n"])
        #expect(count.stdout.components(separatedBy: "\n---\n").count == 3)
    }

    @Test("inspect describes a checkpoint and says clearly when its checksum does not match")
    func inspect() throws {
        let dir = try temporaryDirectory("inspect")
        let path = try Self.handCheckedCheckpoint(in: dir)
        let good = try CharNNBinary.run(["inspect", path])
        #expect(good.status == 0 && good.stdout.contains("1×3 LSTM") && good.stdout.contains("checksum:    ok"))
        let json = try CharNNBinary.run(["inspect", path, "--json"])
        #expect(json.stdout.contains(#""checksum_matches":true"#))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 3] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/damaged.safetensors"))
        let damaged = try CharNNBinary.run(["inspect", dir + "/damaged.safetensors"])
        #expect(damaged.status == 65)
        #expect(damaged.stdout.contains("MISMATCH"))
        #expect(damaged.stderr.contains("checksum mismatch") && damaged.stderr.split(separator: "\n").count == 1)
        let missing = try CharNNBinary.run(["inspect", dir + "/nope.safetensors"])
        #expect(missing.status != 0 && missing.stderr.contains("nope.safetensors"))
    }
}

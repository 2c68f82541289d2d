import CharNN
import Foundation
import Testing

/// Rows "Prime text" of docs/robustness.md.
@Suite("Robustness: prime text", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct PrimeRobustnessTests {
    static func checkpoint() throws -> String {
        let dir = try temporaryDirectory("prime")
        _ = try trainTinyRun(in: dir, steps: 2)
        return dir + "/run/latest.safetensors"
    }

    @Test("symbols outside the vocabulary are listed, exit 65; --skip-unknown leaves them out")
    func unknownSymbols() throws {
        let checkpoint = try Self.checkpoint()
        // No --seed: the seed note must not come before the error.
        let refused = try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--prime", "The ☃ and ∑"])
        expectCleanFailure(refused, mentions: ["--prime: the prime text has 2 symbol(s) the model never saw", "☃", "--skip-unknown"], status: 65)
        #expect(refused.stdout.isEmpty)
        let skipped = try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--prime", "The ☃ and ∑", "--skip-unknown",
                                            "--seed", "1", "--length", "10"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stderr.contains("left out 2 prime symbol(s)"))
    }

    @Test("an empty prime starts from a newline and samples normally")
    func emptyPrime() throws {
        let checkpoint = try Self.checkpoint()
        let result = try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--prime", "", "--seed", "3", "--length", "20"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.count == 21, "\(result.stdout.debugDescription)")  // 20 symbols and the final newline
    }

    @Test("a prime far longer than the training context is fed through the recurrent state")
    func longPrime() throws {
        let checkpoint = try Self.checkpoint()
        let loaded = try Checkpoint.load(from: checkpoint)
        let context = try #require(loaded.training?.options.sequenceLength)
        let prime = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 200)  // 9000 symbols vs --seq 8
        #expect(prime.count > 1000 * context)
        let result = try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--prime", prime, "--seed", "3", "--length", "20"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix(prime) && result.stdout.count == prime.count + 21)
        // The library agrees: the same symbols as feeding the prime one symbol at a time.
        let sampler = try Sampler(model: loaded.model, tokenizer: loaded.tokenizer, prime: prime, seed: 3)
        #expect(prime + sampler.prefix(20).joined() + "\n" == result.stdout)
    }

    @Test("a prime file with invalid UTF-8 names the file and byte")
    func primeFile() throws {
        let checkpoint = try Self.checkpoint()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("prime-\(UUID().uuidString).txt").path
        try Data(Array("The ".utf8) + [0xFF] + Array(" fox".utf8)).write(to: URL(fileURLWithPath: path))
        let result = try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--prime-file", path])
        expectCleanFailure(result, mentions: [path, "invalid UTF-8 at byte offset 4"], status: 65)
    }
}

/// Sampling options at the edge of their range behave as their limit, never as NaN.
@Suite("Robustness: sampling at extreme temperatures", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct ExtremeTemperatureTests {
    @Test("a temperature so small that 1/T overflows samples greedily instead of picking the last symbol")
    func tinyTemperature() throws {
        var rng = RandomGenerator(seed: 9)
        // Subnormal temperatures (1e-320, 1e-310), built without a literal that underflows.
        for temperature in [Double.leastNormalMagnitude / 1e12, Double.leastNormalMagnitude / 1e2, Double.leastNonzeroMagnitude] {
            var picker = try SymbolPicker(options: SamplingOptions(temperature: temperature), vocabularySize: 50)
            for _ in 0..<20 {
                let logits = (0..<50).map { _ in Float(rng.nextUnitDouble() * 10 - 5) }
                let chosen = logits.withUnsafeBufferPointer { picker.pick($0, rng: &rng) }
                #expect(chosen == logits.withUnsafeBufferPointer { SymbolPicker.argmax($0) }, "T = \(temperature)")
            }
        }
    }

    @Test("a huge temperature samples every symbol")
    func hugeTemperature() throws {
        var rng = RandomGenerator(seed: 9)
        var picker = try SymbolPicker(options: SamplingOptions(temperature: 1e300), vocabularySize: 8)
        let logits: [Float] = [9, 0, 0, 0, 0, 0, 0, -9]
        let seen = Set((0..<400).map { _ in logits.withUnsafeBufferPointer { picker.pick($0, rng: &rng) } })
        #expect(seen == Set(0..<8))
    }
}

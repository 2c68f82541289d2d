@_spi(Internals) @testable import CharNN
import Foundation
import Testing

/// The pretrained 2×256 model committed in checkpoints/, loaded once.
private let pretrained: Checkpoint = try! Checkpoint.load(
    from: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("checkpoints/shakespeare.safetensors").path)

/// Collects a generation's symbols.
private func collect(_ text: GeneratedText) async throws -> [String] {
    var symbols: [String] = []
    for try await symbol in text { symbols.append(symbol) }
    return symbols
}

@Suite("Generation: the async API", .timeLimit(.minutes(3)))
struct GenerationTests {
    @Test("generate streams exactly length symbols, and alone in the batch equals Sampler with the same seed")
    func generateMatchesSampler() async throws {
        for precision in SamplingPrecision.allCases {
            let model = try LanguageModel(checkpoint: pretrained, precision: precision)
            let options = SamplingOptions(temperature: 0.9, topK: 20)
            let symbols = try await collect(try model.generate(prime: "KING:\n", length: 150, options: options, seed: 11))
            let sampler = try Sampler(model: pretrained.model, tokenizer: pretrained.tokenizer, options: options,
                                      prime: "KING:\n", seed: 11, precision: precision)
            #expect(symbols.count == 150)
            // Where the sampler reads bf16 panels (AVX-512), its products round differently from
            // the batch's fp32 products of the same rounded weights, so only the length is compared.
            let samePath = !InferenceStep.readsHalfWeights(precision: precision, streams: 1)
            #expect(!samePath || symbols == Array(sampler.prefix(150)), "\(precision)")
            // No prime starts after a newline, as the sampler does.
            let unprimed = try await collect(try model.generate(length: 40, seed: 3))
            let unprimedSampler = try Sampler(model: pretrained.model, tokenizer: pretrained.tokenizer, seed: 3, precision: precision)
            #expect(!samePath || unprimed == Array(unprimedSampler.prefix(40)))
            #expect(try await collect(try model.generate(length: 0, seed: 1)).isEmpty)
        }
    }

    // Beside others a stream's row goes through a matrix-matrix product instead of a matrix-vector
    // one, whose rounding may differ in the last bit: on a near tie (repetitive text) greedy
    // decoding can then take the other symbol. So the comparison is over each text's first 30
    // symbols, where a mix-up of rows would show at once; the exact row bookkeeping (joining,
    // leaving, compaction) is checked with a tolerance by InferenceStepRowTests.
    @Test("concurrent generations share one model and one batch; greedy ones start as their solo runs")
    func concurrentGenerations() async throws {
        let model = try LanguageModel(checkpoint: pretrained, precision: .float32)
        let primes = ["ROMEO:", "JULIET:", "First Citizen:", "O", "To be", "the", "KING", "What"]
        let greedy = SamplingOptions(argmax: true)
        let solo = try await primes.asyncMap { try await collect(try model.generate(prime: $0, length: 80, options: greedy, seed: 0)) }
        let together = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for (index, prime) in primes.enumerated() {
                group.addTask { (index, try await collect(try model.generate(prime: prime, length: 80 + index * 10, options: greedy, seed: 0))) }
            }
            return try await group.reduce(into: [[String]](repeating: [], count: primes.count)) { $0[$1.0] = $1.1 }
        }
        for index in primes.indices {
            #expect(together[index].count == 80 + index * 10)
            #expect(Array(together[index].prefix(30)) == Array(solo[index].prefix(30)), "\(primes[index])")
        }
        #expect(model.activeGenerations == 0)
        #expect(model.symbolsGenerated == primes.count * 80 + primes.indices.reduce(0) { $0 + 80 + $1 * 10 })
    }

    @Test("cancelling the iterating task stops the generation at its next symbol and frees its place")
    func cancellation() async throws {
        let model = try LanguageModel(checkpoint: pretrained)
        let started = AsyncStream<Void>.makeStream()
        let task = Task {
            var count = 0
            for try await _ in try model.generate(length: 10_000_000, seed: 5) {
                count += 1
                if count == 10 { started.continuation.yield() }
            }
            return count
        }
        var iterator = started.stream.makeAsyncIterator()
        await iterator.next()
        #expect(model.activeGenerations == 1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let deadline = ContinuousClock.now + .seconds(2)
        while model.activeGenerations > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(model.activeGenerations == 0)
        // A sequence dropped without being read leaves too.
        do { _ = try model.generate(length: 10_000_000, seed: 1) }
        let dropDeadline = ContinuousClock.now + .seconds(2)
        while model.activeGenerations > 0 && ContinuousClock.now < dropDeadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(model.activeGenerations == 0)
    }

    @Test("a full batch refuses with busy; drain ends running generations and refuses new ones")
    func busyAndDrain() async throws {
        let model = try LanguageModel(checkpoint: pretrained, maxConcurrentGenerations: 2)
        let a = try model.generate(length: 10_000_000, seed: 1)
        let b = try model.generate(length: 10_000_000, seed: 2)
        #expect(throws: GenerationError.busy(limit: 2)) { _ = try model.generate(length: 5, seed: 3) }
        var iterator = a.makeAsyncIterator()
        _ = try await iterator.next()
        model.drain()
        await #expect(throws: GenerationError.shuttingDown) { while try await iterator.next() != nil {} }
        await #expect(throws: GenerationError.shuttingDown) { for try await _ in b {} }
        #expect(throws: GenerationError.shuttingDown) { _ = try model.generate(length: 5, seed: 3) }
    }

    @Test("bad requests throw before anything is queued, naming the field")
    func badRequests() throws {
        let model = try LanguageModel(checkpoint: pretrained)
        #expect(throws: GenerationError.invalidLength(-1)) { _ = try model.generate(length: -1, seed: 0) }
        #expect(throws: SamplingError.unknownPrimeSymbols(["☃"])) { _ = try model.generate(prime: "a☃", length: 5, seed: 0) }
        #expect { _ = try model.generate(length: 5, options: SamplingOptions(temperature: 0), seed: 0) } throws: { error in
            guard case .invalidOption("temperature", _)? = error as? SamplingError else { return false }
            return true
        }
        let skipping = try model.generate(prime: "a☃", length: 5, seed: 0, skipUnknown: true)
        #expect(skipping.droppedPrimeSymbols == ["☃"])
        #expect(model.activeGenerations == 1)
    }

    @Test("distribution(after:) gives probabilities summing to 1, most likely first, whose top symbol is greedy sampling's")
    func distribution() throws {
        let model = try LanguageModel(checkpoint: pretrained)
        let all = try model.distribution(after: "To be or not to b")
        #expect(all.count == pretrained.model.config.vocabularySize)
        #expect(abs(all.reduce(0) { $0 + $1.probability } - 1) < 1e-9)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.probability >= $1.probability })
        #expect(all[0].symbol == "e" && all[0].probability > 0.5, "\(all.prefix(3))")
        let top = try model.distribution(after: "ROMEO", top: 3)
        #expect(top.count == 3)
        let greedy = try Sampler(model: pretrained.model, tokenizer: pretrained.tokenizer, options: SamplingOptions(argmax: true),
                                 prime: "ROMEO", seed: 0)
        #expect(top[0].symbol == greedy.next())
        #expect(try model.distribution(after: "").count == all.count)
        #expect(throws: SamplingError.unknownPrimeSymbols(["☃"])) { _ = try model.distribution(after: "☃") }
        #expect(throws: SamplingError.self) { _ = try model.distribution(after: "a", top: 0) }
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

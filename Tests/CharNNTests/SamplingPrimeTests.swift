@_spi(Internals) @testable import CharNN
import Testing

@Suite("Sampling: a prime read in one batched pass")
struct SamplingPrimeTests {
    /// The state after a prime read by the batched forward pass, in chunks that cut it anywhere,
    /// must be the state that stepping it symbol by symbol reaches: compared through the logits of
    /// the symbol after it, for one stream and for several.
    @Test("the batched prime leaves the same next-symbol logits as stepping it", arguments: [1, 3])
    func batchedEqualsStepped(streams: Int) throws {
        let config = ModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 24, layers: 2)
        let model = try CharModel(config: config, seed: 7)
        var rng = RandomGenerator(seed: 3)
        let prime = (0..<300).map { _ in Int32(rng.nextUnitFloat() * 11) % 11 }
        let stepped = try InferenceStep(model: model, streams: streams, precision: .float32)
        for token in prime { [Int32](repeating: token, count: streams).withUnsafeBufferPointer { stepped.step($0) } }
        for chunk in [1, 7, 256, 1000] {
            let batched = try InferenceStep(model: model, streams: streams, precision: .float32)
            batched.load(broadcasting: try Sampler.state(after: prime.dropLast(), model: model, chunk: chunk))
            [Int32](repeating: prime.last!, count: streams).withUnsafeBufferPointer { batched.step($0) }
            var worst: Float = 0
            for i in 0..<(streams * config.vocabularySize) { worst = max(worst, abs(batched.logits[i] - stepped.logits[i])) }
            #expect(worst < 1e-4, "chunk \(chunk): logits differ by \(worst)")
        }
        // And the check sees a wrong state: one symbol fewer moves the logits far more.
        let short = try InferenceStep(model: model, streams: streams, precision: .float32)
        short.load(broadcasting: try Sampler.state(after: prime.dropLast(2), model: model))
        [Int32](repeating: prime.last!, count: streams).withUnsafeBufferPointer { short.step($0) }
        var gap: Float = 0
        for i in 0..<(streams * config.vocabularySize) { gap = max(gap, abs(short.logits[i] - stepped.logits[i])) }
        #expect(gap > 1e-3, "a state one symbol behind should change the logits (gap \(gap))")
    }

    /// OpenBLAS's sums for the prime pass's [256, 256] · [256, 1024] products differ between one
    /// thread and two, so a pass that took whatever count another caller had set (a concurrent
    /// request's step at one thread) left a different state, and the same seed another text.
    @Test("the batched prime leaves the same bits whatever OpenBLAS count another caller left set")
    func primeIgnoresTheProcessThreadCount() throws {
        let config = ModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 256, layers: 2)
        let model = try CharModel(config: config, seed: 7)
        var rng = RandomGenerator(seed: 5)
        let prime = ArraySlice((0..<600).map { _ in Int32(rng.next() % 11) })
        let found = OpenBLASRuntime.threads
        var states: [RecurrentState] = []
        for count in [1, 2, 1] {
            OpenBLASRuntime.setThreads(count)
            states.append(try Sampler.state(after: prime, model: model))
        }
        OpenBLASRuntime.setThreads(found)
        #expect(states[0].h == states[1].h && states[0].c == states[1].c && states[1].h == states[2].h)
        #expect(states[0].h.contains { $0 != 0 })
    }
}

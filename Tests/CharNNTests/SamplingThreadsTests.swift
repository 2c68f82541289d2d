@_spi(Internals) @testable import CharNN
import Testing

@Suite("Sampling: the thread count chosen by timing")
struct SamplingThreadsTests {
    @Test("timing the thread counts leaves the thread setting and the state as they were")
    func timingLeavesNoTrace() throws {
        let config = ModelConfig(vocabularySize: 11, embeddingSize: 5, hiddenSize: 96, layers: 2)
        let model = try CharModel(config: config, seed: 5)
        let fresh = try InferenceStep(model: model, streams: 1, precision: .float32)
        let timed = try InferenceStep(model: model, streams: 1, precision: .float32)
        timed.threads = 1
        [Int32(3)].withUnsafeBufferPointer { timed.step($0) }  // state no longer zero
        let choice = timed.fasterThreadCount(rounds: 2, steps: 4)
        #expect(choice == 1 || choice == 2)
        #expect(timed.threads == 1)
        for token in [Int32(4), 7, 1] {
            [token].withUnsafeBufferPointer { fresh.step($0); timed.step($0) }
        }
        for i in 0..<config.vocabularySize { #expect(fresh.logits[i] == timed.logits[i], "logit \(i)") }
    }

    @Test("a sampler told its threads keeps them; one left to choose picks 1 or 2, and 1 for a small model")
    func samplerChoice() throws {
        let corpus = try Tokenizer.build(text: String(repeating: "abc def\n", count: 20))
        let small = try CharModel(config: ModelConfig(vocabularySize: corpus.tokenizer.vocabulary.count, embeddingSize: 4,
                                                      hiddenSize: 8, layers: 1), seed: 1)
        #expect(try Sampler(model: small, tokenizer: corpus.tokenizer, seed: 1).threadCount == 1)
        #expect(try Sampler(model: small, tokenizer: corpus.tokenizer, seed: 1, threads: 2).threadCount == 2)
        let large = try CharModel(config: ModelConfig(vocabularySize: corpus.tokenizer.vocabulary.count, embeddingSize: 8,
                                                      hiddenSize: 256, layers: 2), seed: 1)
        #expect([1, 2].contains(try Sampler(model: large, tokenizer: corpus.tokenizer, seed: 1).threadCount))
    }
}

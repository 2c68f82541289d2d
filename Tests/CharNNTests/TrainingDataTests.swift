@_spi(Internals) import CharNN
import Testing

@Suite("Training data: streams, split and evaluation order")
struct TrainingDataTests {
    static func sequence(_ n: Int) -> TokenSequence { .u16((0..<n).map { UInt16($0) }) }

    @Test("B contiguous streams, T steps each, targets shifted by one, time-major")
    func streams() throws {
        // 25 tokens, B = 3: L = 24 / 3 = 8 per stream, T = 3 → 2 steps per epoch.
        let streams = try BatchStreams(tokens: Self.sequence(25), batch: 3, steps: 3)
        #expect(streams.streamLength == 8 && streams.stepsPerEpoch == 2)
        var cursor = BatchStreams.Cursor()
        var inputs = [Int32](repeating: -1, count: 9), targets = inputs
        #expect(streams.next(cursor: &cursor, inputs: &inputs, targets: &targets))
        // Row t holds step t of streams 0, 1, 2, which start at 0, 8 and 16.
        #expect(inputs == [0, 8, 16, 1, 9, 17, 2, 10, 18])
        #expect(targets == [1, 9, 17, 2, 10, 18, 3, 11, 19])
        #expect(!streams.next(cursor: &cursor, inputs: &inputs, targets: &targets))
        #expect(inputs == [3, 11, 19, 4, 12, 20, 5, 13, 21])
        #expect(streams.epochProgress(cursor) == 1.0)
        // The third batch wraps to a new epoch (and tells the caller to reset the state).
        #expect(streams.next(cursor: &cursor, inputs: &inputs, targets: &targets))
        #expect(cursor == BatchStreams.Cursor(epoch: 1, position: 1))
        #expect(inputs == [0, 8, 16, 1, 9, 17, 2, 10, 18])
    }

    @Test("a corpus too small for one batch says which batch and sequence length fit, in the caller's names")
    func tooSmall() throws {
        #expect(throws: TrainingError.corpusTooSmall(symbols: 20, batch: 8, sequenceLength: 4)) {
            try BatchStreams(tokens: Self.sequence(20), batch: 8, steps: 4)
        }
        let error = TrainingError.corpusTooSmall(symbols: 20, batch: 8, sequenceLength: 4)
        #expect(error.description.contains("batch 4 (with sequenceLength 4)"))
        #expect(error.description.contains("sequenceLength 2 (with batch 8)"))
        let flags = error.describe(naming: { ["batch": "--batch", "sequenceLength": "--seq"][$0] ?? $0 })
        #expect(flags.contains("--batch 4 (with --seq 4)") && flags.contains("--seq 2 (with --batch 8)"), "\(flags)")
        #expect(throws: TrainingError.self) { try BatchStreams(tokens: Self.sequence(0), batch: 1, steps: 1) }
    }

    @Test("the validation split is the last fraction of the symbols, contiguous")
    func split() throws {
        let tokenizer = try Tokenizer.build(text: "abcdefghij").tokenizer
        let tokens = Self.sequence(10)
        let data = TrainingData(tokenizer: tokenizer, tokens: tokens, validationFraction: 0.25, fileName: "x")
        #expect(Array(data.train) == (0..<8).map { Int32($0) })
        #expect(Array(data.validation) == [8, 9])
        let none = TrainingData(tokenizer: tokenizer, tokens: tokens, validationFraction: 0, fileName: "x")
        #expect(none.train.count == 10 && none.validation.isEmpty)
    }

    @Test("validation scores every prediction exactly once, whatever B and T")
    func evaluationCoverage() throws {
        // With zero LSTM and embedding weights the logits are the head bias, so each prediction's
        // loss depends only on its target: the mean is known in closed form.
        let config = ModelConfig(vocabularySize: 7, embeddingSize: 3, hiddenSize: 4, layers: 2)
        var model = try CharModel(config: config, seed: 1)
        model.parameters.zero()
        let bias: [Float] = [0.5, -1, 2, 0, 1, -0.5, 0.25]
        try model.parameters.setTensor("head.bias", bias)
        let logSum = log(bias.map { exp(Double($0)) }.reduce(0, +))
        var rng = RandomGenerator(seed: 4)
        let ids = (0..<103).map { _ in UInt16(rng.next() % 7) }
        let expected = ids.dropFirst().map { logSum - Double(bias[Int($0)]) }.reduce(0, +) / 102
        for (batch, steps) in [(1, 1), (4, 5), (10, 7), (200, 3)] {
            let evaluator = Evaluator(tokens: .u16(ids), batch: batch, steps: steps)
            #expect(evaluator.predictionCount == 102)
            let mean = try #require(try evaluator.meanLoss(of: model))
            #expect(abs(mean - expected) < 1e-6, "B \(batch) T \(steps): \(mean) vs \(expected)")
        }
        #expect(try Evaluator(tokens: .u16([3]), batch: 2, steps: 2).meanLoss(of: model) == nil)
    }

    @Test("validation gives the same bits on one thread and two (each scores half of the streams), whatever OpenBLAS count another caller left set")
    func evaluationThreads() throws {
        let model = try CharModel(config: ModelConfig(vocabularySize: 9, embeddingSize: 5, hiddenSize: 256, layers: 2), seed: 2)
        var rng = RandomGenerator(seed: 6)
        // 699 predictions over 32 streams leave 27 to the batch-1 pass, and 20 symbols are fewer
        // than the streams, so the whole of them goes through it. OpenBLAS's sums for that pass's
        // [9, 256] · [256, 1024] product differ between one thread and two on the machines seen,
        // which is what made this test fail in CI when a concurrent training run had set 2.
        for count in [700, 20] {
            let ids = (0..<count).map { _ in UInt16(rng.next() % 9) }
            var losses: [Double] = []
            let found = OpenBLASRuntime.threads
            for (threads, blasThreads) in [(1, 1), (2, 2), (1, 2), (2, 1)] {
                OpenBLASRuntime.setThreads(blasThreads)
                let evaluator = Evaluator(tokens: .u16(ids), batch: 32, steps: 9)
                evaluator.threads = threads
                losses.append(try #require(try evaluator.meanLoss(of: model)))
            }
            OpenBLASRuntime.setThreads(found)
            #expect(Set(losses).count == 1, "\(count) symbols: \(losses)")
            #expect(losses[0] > 1 && losses[0] < 4)
        }
    }
}

import Foundation

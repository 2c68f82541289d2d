@_spi(Internals) import CharNN
import Foundation
import Testing

@Suite("Validation on a sample that fits the budget")
struct ValidationSamplingTests {
    /// A model whose every prediction's loss depends only on its target (all weights zero but
    /// the head's bias), so any sample's mean and spread are known in closed form.
    static func closedFormModel() throws -> (model: CharModel, lossOf: (UInt16) -> Double) {
        let config = ModelConfig(vocabularySize: 7, embeddingSize: 3, hiddenSize: 4, layers: 2)
        var model = try CharModel(config: config, seed: 1)
        model.parameters.zero()
        let bias: [Float] = [0.5, -1, 2, 0, 1, -0.5, 0.25]
        try model.parameters.setTensor("head.bias", bias)
        let logSum = log(bias.map { exp(Double($0)) }.reduce(0, +))
        return (model, { logSum - Double(bias[Int($0)]) })
    }

    @Test("a sample as large as the split scores exactly what a whole pass scores")
    func wholeSplit() throws {
        let model = try CharModel(config: ModelConfig(vocabularySize: 9, embeddingSize: 5, hiddenSize: 24, layers: 2), seed: 2)
        var rng = RandomGenerator(seed: 6)
        let ids = (0..<403).map { _ in UInt16(rng.next() % 9) }
        let evaluator = Evaluator(tokens: .u16(ids), batch: 4, steps: 5)
        let whole = try #require(try evaluator.meanLoss(of: model))
        for sample in [nil, 402, 10_000] {
            let score = try #require(try evaluator.score(of: model, halves: nil, threads: 1, sampleSymbols: sample))
            #expect(score.meanLoss == whole && score.predictions == 402 && score.availablePredictions == 402 && !score.isSample)
            #expect((score.standardError ?? 0) > 0)
        }
    }

    @Test("a sample scores the first predictions of each of the B evenly spaced segments, with their standard error")
    func sampledSegments() throws {
        let (model, lossOf) = try Self.closedFormModel()
        var rng = RandomGenerator(seed: 4)
        let ids = (0..<403).map { _ in UInt16(rng.next() % 7) }
        // 402 predictions in 4 segments of 100 (2 left over); a sample of 83 takes 20 from each.
        let evaluator = Evaluator(tokens: .u16(ids), batch: 4, steps: 5)
        let score = try #require(try evaluator.score(of: model, halves: nil, threads: 1, sampleSymbols: 83))
        #expect(score.predictions == 80 && score.availablePredictions == 402 && score.isSample)
        let segmentMeans = (0..<4).map { segment in
            (1...20).map { lossOf(ids[segment * 100 + $0]) }.reduce(0, +) / 20
        }
        let mean = segmentMeans.reduce(0, +) / 4
        let variance = segmentMeans.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3
        #expect(abs(score.meanLoss - mean) < 1e-6, "\(score.meanLoss) vs \(mean)")
        let error = try #require(score.standardError)
        #expect(abs(error - (variance / 4).squareRoot()) < 1e-6, "\(error) vs \((variance / 4).squareRoot())")
        // The same sample on every call, and on two threads.
        evaluator.threads = 2
        #expect(try evaluator.score(of: model, halves: nil, threads: 2, sampleSymbols: 83) == score)
    }

    @Test("a real model's sampled score equals scoring each segment's beginning on its own")
    func sampledStateCarry() throws {
        let model = try CharModel(config: ModelConfig(vocabularySize: 9, embeddingSize: 5, hiddenSize: 24, layers: 2), seed: 3)
        var rng = RandomGenerator(seed: 8)
        let ids = (0..<601).map { _ in UInt16(rng.next() % 9) }
        let evaluator = Evaluator(tokens: .u16(ids), batch: 6, steps: 7)
        let score = try #require(try evaluator.score(of: model, halves: nil, threads: 1, sampleSymbols: 6 * 33))
        #expect(score.predictions == 198)
        var total = 0.0
        for segment in 0..<6 {
            let start = segment * 100
            let alone = Evaluator(tokens: .u16(Array(ids[start...(start + 33)])), batch: 1, steps: 7)
            total += try #require(try alone.meanLoss(of: model)) * 33
        }
        #expect(abs(score.meanLoss - total / 198) < 1e-5, "\(score.meanLoss) vs \(total / 198)")
    }

    @Test("the sample size: a tenth of a time budget at three times the training speed, 0.3 of a step budget's symbols")
    func sizing() {
        func size(available: Int = 10_000_000, time: Double? = nil, rate: Double? = nil, steps: Int? = nil) -> Int {
            ValidationSampling.sampleSize(available: available, batch: 32, symbolsPerStep: 2048, timeBudget: time,
                                          trainingRate: rate, plannedSteps: steps)
        }
        #expect(size(time: 60, rate: 10_000) == 180_000)
        #expect(size(time: 60, rate: 10_001) == 180_000 && size(time: 60, rate: 10_010) == 180_160)
        #expect(size(steps: 100) == 61_440)
        #expect(size(time: 60, rate: 10_000, steps: 100) == 61_440)
        #expect(size(time: 600, rate: 10_000, steps: 5000) == 1_800_000)
        // Never below 256 per stream, never above the split, the split without any budget.
        #expect(size(time: 1, rate: 100) == 256 * 32)
        #expect(size(available: 5000, time: 60, rate: 10_000) == 5000)
        #expect(size() == 10_000_000)
        #expect(size(time: 60, rate: 0) == 10_000_000)
        #expect(ValidationSampling.expectedSeconds(predictions: 30_000, measuredSecondsPerPrediction: nil, trainingRate: 10_000) == 1)
        #expect(ValidationSampling.expectedSeconds(predictions: 30_000, measuredSecondsPerPrediction: 1e-4, trainingRate: 10_000) == 3)
        #expect(ValidationSampling.expectedSeconds(predictions: 30_000, measuredSecondsPerPrediction: nil, trainingRate: 0) == 0)
    }

    /// Words from a fixed list in a seeded order: megabytes of text, tokenized fast.
    static func writeLargeCorpus(in directory: String, bytes: Int) throws -> String {
        let words = ["the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by",
                     "on", "not", "he", "I", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had"]
        var rng = RandomGenerator(seed: 11)
        var text = [UInt8]()
        text.reserveCapacity(bytes + 16)
        var column = 0
        while text.count < bytes {
            let word = words[Int(rng.next() % UInt64(words.count))]
            text.append(contentsOf: word.utf8)
            column += word.utf8.count + 1
            if column > 70 { text.append(UInt8(ascii: "\n")); column = 0 } else { text.append(UInt8(ascii: " ")) }
        }
        let path = directory + "/large.txt"
        try Data(text).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a --time run on a corpus whose validation split alone would outlast the budget ends within it",
          .timeLimit(.minutes(3)))
    func budgetedRun() throws {
        let dir = try temporaryDirectory("val-budget")
        // 24 MB: on a quiet Zen 3 a 6 MB corpus's split scored whole in 2.1 s, under the 4 s budget,
        // so the test meant nothing there; four times that needs about 8 s.
        let corpus = try Self.writeLargeCorpus(in: dir, bytes: 24_000_000)
        var options = TrainingOptions()
        (options.layers, options.hiddenSize, options.embeddingSize) = (1, 128, 16)
        (options.batch, options.sequenceLength, options.threads) = (16, 32, 1)
        let budget = 4.0
        options.timeBudgetSeconds = budget
        let (summary, available) = try {
            // In a scope of its own: the run holds the directory's lock until it is freed.
            let run = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                      directory: RunDirectory(path: dir + "/run"), mode: .fresh)
            return (try run.run(events: { _ in }, shouldStop: { false }), run.trainer.evaluator.predictionCount)
        }()
        #expect(summary.reason == .timeBudget)
        let records = try TrainingLog.read(url: URL(fileURLWithPath: dir + "/run/log.jsonl"))
        let last = try #require(records.last)
        let scored = try #require(last.valSymbols)
        let passSeconds = try #require(last.valSeconds)
        // The test means something only if scoring the whole split would have blown the budget,
        // at the speed this very run measured.
        let wholeSplitSeconds = passSeconds / Double(scored) * Double(available)
        try #require(wholeSplitSeconds > budget,
                     "the corpus is too small for this machine: the whole split takes \(wholeSplitSeconds) s")
        #expect(scored < available && scored == summary.lastValidation?.predictions)
        #expect(last.valStandardError != nil && last.valStandardError == summary.lastValidation?.standardError)
        // Every pass stays well under a whole-split pass (each is sized to a tenth of the budget;
        // the first from the training speed, before any pass was measured), and the run, its last
        // validation included, ends nearer its budget than the budget plus a whole-split pass,
        // which is where a run that scored the whole split would end.
        // The bounds are halves, not the design's tenth: the suite runs other tests beside this
        // one on two cores, so a pass can run 2-3× slower than the speed it was sized from
        // (CI once saw 5.4 s for this 4 s budget). Both still fail for the bug they guard.
        for record in records { #expect((record.valSeconds ?? 0) <= wholeSplitSeconds * 0.5, "\(record)") }
        let stepSeconds = Double(options.batch * options.sequenceLength) / summary.charsPerSecond
        #expect(last.elapsedSeconds <= summary.elapsedSeconds)
        #expect(summary.elapsedSeconds <= budget + wholeSplitSeconds * 0.5 + 2 * stepSeconds,
                "\(summary.elapsedSeconds) s for a \(budget) s budget (a whole-split pass: \(wholeSplitSeconds) s)")
        // The sample is part of the run: a resume scores the same one, --val-symbols replaces it.
        let saved = try Checkpoint.load(from: dir + "/run/latest.safetensors")
        #expect(saved.training?.validationSample == scored)
        let resumed = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                      directory: RunDirectory(path: dir + "/run"), mode: .resume)
        #expect(resumed.trainer.state.validationSample == scored)
    }

    @Test("a step budget sizes the sample without timing (reproducible); --val-symbols sets it, on resume too")
    func stepBudgetAndOverride() throws {
        let dir = try temporaryDirectory("val-steps")
        let corpus = try Self.writeLargeCorpus(in: dir, bytes: 200_000)
        var options = tinyTrainingOptions(steps: 3)
        options.evalEvery = nil
        let first = try TrainingRunTests.train(corpus: corpus, out: dir + "/run", options: options, mode: .fresh)
        // 3 steps of 4 × 8 symbols allow 0.3 · 96 ≈ 28 predictions, raised to the floor of 256 per stream.
        #expect(first.lastValidation?.predictions == 1024 && first.lastValidation?.isSample == true)
        options.maxSteps = 5
        options.validationSymbols = 2000
        let second = try TrainingRunTests.train(corpus: corpus, out: dir + "/run", options: options, mode: .resume)
        #expect(second.lastValidation?.predictions == 2000)
        let log = try TrainingLog.read(url: URL(fileURLWithPath: dir + "/run/log.jsonl"))
        #expect(log.map(\.valSymbols) == [1024, 2000])
        options.maxSteps = 7
        options.validationSymbols = nil
        let third = try TrainingRunTests.train(corpus: corpus, out: dir + "/run", options: options, mode: .resume)
        #expect(third.lastValidation?.predictions == 2000)
    }
}

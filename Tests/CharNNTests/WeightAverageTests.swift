import CharNN
import Foundation
import Testing

@Suite("Weight averaging: the moving average validated, saved and resumed")
struct WeightAverageTests {
    @Test("the decay ramps up as (1 + t) / (10 + t) to β, and each update mixes in the new weights")
    func formula() throws {
        let layout = tinyLayout()
        var start = ParameterSet(zerosFor: layout)
        for i in start.values.indices { start.values[i] = 1 }
        var average = WeightAverage(decay: 0.9, startingAt: start)
        #expect(average.effectiveDecay(atStep: 1) == Float(2.0 / 11.0))
        #expect(average.effectiveDecay(atStep: 80) == Float(0.9))
        var next = start
        for i in next.values.indices { next.values[i] = 3 }
        average.update(with: next, step: 1)
        // 2/11 · 1 + 9/11 · 3 = 29/11
        for v in average.values.values { #expect(abs(v - 29.0 / 11.0) < 1e-6) }
        average.update(with: next, step: 1000)
        for v in average.values.values { #expect(abs(v - (0.9 * 29.0 / 11.0 + 0.1 * 3)) < 1e-6) }
    }

    @Test("with averaging, the checkpoint's model is the average, the raw weights sit beside it, and both round-trip")
    func checkpointHoldsBoth() throws {
        let dir = try temporaryDirectory("average")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 6)
        options.averageDecay = 0.9
        let built = try Tokenizer.build(fromFile: corpus)
        let data = TrainingData(tokenizer: built.tokenizer, tokens: built.tokens, validationFraction: 0.1, fileName: "c.txt")
        let trainer = try Trainer(data: data, options: options)
        try trainer.train(steps: 6)
        let saved = trainer.checkpoint()
        #expect(saved.model.parameters == trainer.average?.values)
        #expect(saved.trainingWeights == trainer.model.parameters)
        #expect(saved.model.parameters != trainer.model.parameters)
        // The validation loss is the average's, not the raw weights'.
        let evaluator = Evaluator(tokens: data.validation, batch: 4, steps: 8)
        #expect(try trainer.evaluate() == evaluator.meanLoss(of: saved.model))
        #expect(try trainer.evaluate() != evaluator.meanLoss(of: trainer.model))

        let loaded = try Checkpoint(bytes: saved.serialized())
        #expect(loaded.model == saved.model && loaded.trainingWeights == saved.trainingWeights)
        #expect(loaded.training?.options.averageDecay == 0.9)
        // Weights-only files (export, sampling) carry just the average.
        let exported = try Checkpoint(bytes: saved.weightsOnly.serialized())
        #expect(exported.model == saved.model && exported.trainingWeights == nil)
        // A run that averages cannot resume from a file missing the raw weights.
        var damaged = saved
        damaged.trainingWeights = nil
        #expect(throws: CheckpointError.self) { try Checkpoint(bytes: damaged.serialized()) }
    }

    @Test("a run with averaging stopped at step k and resumed is bit-identical to an uninterrupted one")
    func bitIdenticalResume() throws {
        let dir = try temporaryDirectory("average-resume")
        let corpus = try writeSmallCorpus(in: dir)
        func options(_ steps: Int) -> TrainingOptions {
            var o = tinyTrainingOptions(steps: steps)
            o.averageDecay = 0.95
            return o
        }
        _ = try TrainingRunTests.train(corpus: corpus, out: dir + "/straight", options: options(14), mode: .fresh)
        _ = try TrainingRunTests.train(corpus: corpus, out: dir + "/split", options: options(5), mode: .fresh)
        let resumed = try TrainingRunTests.train(corpus: corpus, out: dir + "/split", options: options(14), mode: .resume)
        let a = try Checkpoint.load(from: dir + "/straight/latest.safetensors")
        let b = try Checkpoint.load(from: dir + "/split/latest.safetensors")
        #expect(a.training?.step == 14 && b.training?.step == 14)
        #expect(a.model.parameters.values == b.model.parameters.values)
        #expect(a.trainingWeights?.values == b.trainingWeights?.values)
        #expect(a.optimizer == b.optimizer)
        #expect(resumed.bestValidationLoss == a.training?.bestValidationLoss)
    }

    @Test("an average decay outside (0, 1) is refused, naming the field")
    func validation() {
        for bad in [0.0, 1.0, -0.5, .nan] {
            var options = TrainingOptions()
            options.averageDecay = bad
            #expect(throws: TrainingError.self) { try options.validate() }
            do { try options.validate() } catch {
                guard case .invalidOption("averageDecay", _) = error else { Issue.record("\(error)"); continue }
            }
        }
    }
}

@_spi(Internals) import CharNN
import Foundation
import Testing

@Suite("Training runs: exact resume, run directories, failures")
struct TrainingRunTests {
    static func train(corpus: String, out: String, options: TrainingOptions, mode: RunDirectory.OpenMode) throws -> TrainingSummary {
        let run = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                  directory: RunDirectory(path: out), mode: mode)
        return try run.run(events: { _ in }, shouldStop: { false })
    }

    @Test("a run stopped at step k and resumed reaches step n bit-identical to an uninterrupted one")
    func bitIdenticalResume() throws {
        let dir = try temporaryDirectory("resume")
        let corpus = try writeSmallCorpus(in: dir)
        // Dropout on, so the generator's state must be restored too; the stop lands mid-epoch.
        let straight = try Self.train(corpus: corpus, out: dir + "/straight", options: tinyTrainingOptions(steps: 14), mode: .fresh)
        #expect(straight.step == 14)
        _ = try Self.train(corpus: corpus, out: dir + "/split", options: tinyTrainingOptions(steps: 5), mode: .fresh)
        _ = try Self.train(corpus: corpus, out: dir + "/split", options: tinyTrainingOptions(steps: 9), mode: .resume)
        let resumed = try Self.train(corpus: corpus, out: dir + "/split", options: tinyTrainingOptions(steps: 14), mode: .resume)
        #expect(resumed.step == 14)

        let a = try Checkpoint.load(from: dir + "/straight/latest.safetensors")
        let b = try Checkpoint.load(from: dir + "/split/latest.safetensors")
        #expect(a.model.parameters.values == b.model.parameters.values)
        #expect(a.optimizer == b.optimizer)
        #expect(a.carriedState == b.carriedState)
        #expect(a.training?.cursor == b.training?.cursor && a.training?.rng == b.training?.rng)
        #expect(a.training?.step == 14)
        // The log holds one record per evaluation across both sessions.
        let log = try TrainingLog.read(url: URL(fileURLWithPath: dir + "/split/log.jsonl"))
        #expect(log.map(\.step) == [4, 5, 8, 9, 12, 14])
    }

    @Test("with the default cosine schedule, a run interrupted at step k and resumed to the same target is bit-identical")
    func bitIdenticalCosineResume() throws {
        let dir = try temporaryDirectory("cosine")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 12)
        options.schedule = TrainingOptions().schedule
        try #require(options.schedule == .cosine)
        _ = try Self.train(corpus: corpus, out: dir + "/straight", options: options, mode: .fresh)
        // The first session is stopped from outside (as Ctrl-C does) at step 5, with the same target.
        // (In a scope of its own: the run holds the directory's lock until it is released.)
        do {
            var steps = 0
            let run = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                      directory: RunDirectory(path: dir + "/split"), mode: .fresh)
            let first = try run.run(events: { if case .progress = $0 { steps += 1 } }, shouldStop: { steps >= 5 })
            #expect(first.step == 5)
        }
        let resumed = try Self.train(corpus: corpus, out: dir + "/split", options: options, mode: .resume)
        #expect(resumed.step == 12)
        let a = try Checkpoint.load(from: dir + "/straight/latest.safetensors")
        let b = try Checkpoint.load(from: dir + "/split/latest.safetensors")
        #expect(b.training?.step == 12)
        #expect(a.model.parameters.values == b.model.parameters.values)
        #expect(a.optimizer == b.optimizer)
    }

    @Test("resume drops log records from after the checkpoint, so each step is logged once")
    func resumeTrimsLog() throws {
        let dir = try temporaryDirectory("trim")
        let corpus = try writeSmallCorpus(in: dir)
        _ = try Self.train(corpus: corpus, out: dir + "/run", options: tinyTrainingOptions(steps: 4), mode: .fresh)
        // As if the process died after logging step 8 but before saving it.
        var log = try TrainingLog(url: URL(fileURLWithPath: dir + "/run/log.jsonl"), truncate: false)
        try log.append(EvaluationRecord(step: 8, epoch: 0.2, trainLoss: 9, valLoss: 9, valBPC: nil, learningRate: 0.002,
                                        charsPerSecond: 1, elapsedSeconds: 1))
        _ = try Self.train(corpus: corpus, out: dir + "/run", options: tinyTrainingOptions(steps: 8), mode: .resume)
        let steps = try TrainingLog.read(url: URL(fileURLWithPath: dir + "/run/log.jsonl")).map(\.step)
        #expect(steps == [4, 8])
        #expect(try TrainingLog.read(url: URL(fileURLWithPath: dir + "/run/log.jsonl")).last?.trainLoss != 9)
    }

    @Test("training is deterministic for a seed, and the seed matters")
    func determinism() throws {
        let dir = try temporaryDirectory("seed")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 6)
        _ = try Self.train(corpus: corpus, out: dir + "/a", options: options, mode: .fresh)
        _ = try Self.train(corpus: corpus, out: dir + "/b", options: options, mode: .fresh)
        options.seed = 99
        _ = try Self.train(corpus: corpus, out: dir + "/c", options: options, mode: .fresh)
        let a = try Checkpoint.load(from: dir + "/a/latest.safetensors").model
        #expect(a == (try Checkpoint.load(from: dir + "/b/latest.safetensors").model))
        #expect(a != (try Checkpoint.load(from: dir + "/c/latest.safetensors").model))
    }

    @Test("training lowers the validation loss and writes every file")
    func learns() throws {
        let dir = try temporaryDirectory("learn")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 150)
        options.dropout = 0
        options.hiddenSize = 32
        options.learningRate = 1e-2
        options.evalEvery = 50
        let summary = try Self.train(corpus: corpus, out: dir + "/run", options: options, mode: .fresh)
        let log = try TrainingLog.read(url: URL(fileURLWithPath: dir + "/run/log.jsonl"))
        let first = try #require(log.first?.valLoss), last = try #require(log.last?.valLoss)
        #expect(last < first - 1, "validation loss \(first) → \(last)")
        print("tiny model learning: validation loss \(log.compactMap(\.valLoss))")
        #expect(summary.bestValidationLoss == log.compactMap(\.valLoss).min())
        for file in ["latest.safetensors", "best.safetensors", "log.jsonl", "loss.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/run/" + file), "\(file)")
        }
    }

    @Test("an existing run is never overwritten without --resume or --force")
    func refusesOverwrite() throws {
        let dir = try temporaryDirectory("overwrite")
        let corpus = try writeSmallCorpus(in: dir)
        _ = try Self.train(corpus: corpus, out: dir + "/run", options: tinyTrainingOptions(steps: 2), mode: .fresh)
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/run/latest.safetensors"))
        #expect(throws: RunError.runDirectoryExists(dir + "/run")) {
            try Self.train(corpus: corpus, out: dir + "/run", options: tinyTrainingOptions(steps: 2), mode: .fresh)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/run/latest.safetensors")) == before)
        #expect(throws: RunError.noCheckpointToResume(dir + "/empty")) {
            try Self.train(corpus: corpus, out: dir + "/empty", options: tinyTrainingOptions(steps: 2), mode: .resume)
        }
        let forced = try Self.train(corpus: corpus, out: dir + "/run", options: tinyTrainingOptions(steps: 1), mode: .force)
        #expect(forced.step == 1)
    }

    @Test("resuming on a different corpus is refused")
    func resumeOtherCorpus() throws {
        let dir = try temporaryDirectory("other")
        let corpus = try writeSmallCorpus(in: dir)
        _ = try Self.train(corpus: corpus, out: dir + "/run", options: tinyTrainingOptions(steps: 2), mode: .fresh)
        let other = try writeSmallCorpus(in: dir, name: "other.txt", repeats: 41)
        #expect(throws: TrainingError.self) {
            try Self.train(corpus: other, out: dir + "/run", options: tinyTrainingOptions(steps: 4), mode: .resume)
        }
    }

    @Test("a non-finite loss stops the step and leaves the run as it was")
    func nonFinite() throws {
        let corpus = try Tokenizer.build(text: String(repeating: "abcdefgh ", count: 20))
        let data = TrainingData(tokenizer: corpus.tokenizer, tokens: corpus.tokens, validationFraction: 0.1, fileName: "t")
        let trainer = try Trainer(data: data, options: tinyTrainingOptions(steps: 10))
        try trainer.step()
        let before = trainer.checkpoint()
        var poisoned = trainer.checkpoint()
        poisoned.model.parameters.values[0] = .nan
        poisoned.model.parameters.values[poisoned.model.parameters.values.count - 1] = .nan
        let broken = try Trainer(data: data, resuming: poisoned)
        #expect { try broken.step() } throws: { error in
            guard case TrainingError.nonFiniteLoss(step: 2, _) = error else { return false }
            return (error as! TrainingError).description.contains("learningRate")
        }
        #expect(broken.state == poisoned.training && broken.carried == poisoned.carriedState)
        #expect(before.training?.step == 1)
    }
}

/// Whether one and two threads train the same bits depends on OpenBLAS's thread count, one setting for
/// the whole process that other tests' training runs set as they start. So this suite runs in the
/// second, one-at-a-time pass of scripts/test, with nothing beside it.
@Suite("Training: thread count and bits")
struct TrainingThreadsTests {
    @Test("two threads train exactly the same model as one")
    func threadsAgree() throws {
        let corpus = try Tokenizer.build(text: String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 40))
        let data = TrainingData(tokenizer: corpus.tokenizer, tokens: corpus.tokens, validationFraction: 0.1, fileName: "t")
        var options = tinyTrainingOptions(steps: 3)
        options.hiddenSize = 256
        options.batch = 16          // two halves of 8 streams, one per thread when there are two
        var models: [CharModel] = []
        for threads in [1, 2] {
            options.threads = threads
            OpenBLASRuntime.setThreads(threads)
            let trainer = try Trainer(data: data, options: options)
            try trainer.train(steps: 3)
            models.append(trainer.model)
        }
        // The batch is split into the same two halves whatever the thread count (SplitBatchPass),
        // so the runs agree to the bit.
        // A Bool, not the models: a failed == on them prints 800k parameters (21 MB) twice.
        let differing = zip(models[0].parameters.values, models[1].parameters.values).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(models[0].config == models[1].config)
        #expect(differing == 0, "\(differing) of \(models[0].parameters.values.count) parameters differ between 1 and 2 threads")
    }
}

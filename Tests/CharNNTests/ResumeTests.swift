@_spi(Internals) import CharNN
import Foundation
import Testing

/// Bit-identical resume beyond TrainingRunTests' one-thread constant-rate case: two threads,
/// weight averaging under the cosine schedule, and a --time budget whose cosine length the first
/// session fixed from its measured speed.
@Suite("Training runs: exact resume with threads, averaging and a time budget")
struct ResumeTests {
    /// Runs a session in `out` that stops itself after `steps` more steps (as Ctrl-C does).
    /// (The run holds the directory's lock until it is released, hence a function of its own.)
    static func session(corpus: String, out: String, options: TrainingOptions, mode: RunDirectory.OpenMode,
                        steps: Int) throws -> TrainingSummary {
        var done = 0
        let run = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                  directory: RunDirectory(path: out), mode: mode)
        return try run.run(events: { if case .progress = $0 { done += 1 } }, shouldStop: { done >= steps })
    }

    /// Everything a resumed run continues from: the weights (raw and averaged), Adam, the carried
    /// state, the cursor, the generator and the learning-rate plan.
    static func expectSameRun(_ a: String, _ b: String, step: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let x = try Checkpoint.load(from: a), y = try Checkpoint.load(from: b)
        #expect(x.training?.step == step && y.training?.step == step, sourceLocation: sourceLocation)
        #expect(x.model.parameters.values == y.model.parameters.values, "weights", sourceLocation: sourceLocation)
        #expect(x.trainingWeights == y.trainingWeights, "raw weights", sourceLocation: sourceLocation)
        #expect(x.optimizer == y.optimizer, "Adam", sourceLocation: sourceLocation)
        #expect(x.carriedState == y.carriedState, "carried state", sourceLocation: sourceLocation)
        #expect(x.training?.cursor == y.training?.cursor && x.training?.rng == y.training?.rng, sourceLocation: sourceLocation)
        #expect(x.training?.learningRate == y.training?.learningRate, "plan", sourceLocation: sourceLocation)
    }

    /// Trains `options` to its step budget twice: straight through in `dir`/straight, and in
    /// `dir`/split as a session stopped at step 5, then resumed with `resumedWith` (the same options
    /// by default). Expects the split run to reach the budget bit-identical to the straight one.
    static func expectExactResume(corpus: String, dir: String, options: TrainingOptions, resumedWith: TrainingOptions? = nil,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let steps = try #require(options.maxSteps, sourceLocation: sourceLocation)
        _ = try TrainingRunTests.train(corpus: corpus, out: dir + "/straight", options: options, mode: .fresh)
        #expect(try session(corpus: corpus, out: dir + "/split", options: options, mode: .fresh, steps: 5).step == 5,
                sourceLocation: sourceLocation)
        #expect(try TrainingRunTests.train(corpus: corpus, out: dir + "/split", options: resumedWith ?? options, mode: .resume).step == steps,
                sourceLocation: sourceLocation)
        try expectSameRun(dir + "/straight/latest.safetensors", dir + "/split/latest.safetensors", step: steps,
                          sourceLocation: sourceLocation)
    }

    @Test("two threads: stopped at step 5 and resumed, bit-identical to an uninterrupted run")
    func twoThreads() throws {
        let dir = try temporaryDirectory("resume-threads")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 14)
        options.threads = 2
        options.batch = 8  // two halves of four streams, one per thread
        try Self.expectExactResume(corpus: corpus, dir: dir, options: options)
    }

    @Test("a GRU and an RNN run: stopped at step 5 and resumed, bit-identical; the file names the cell",
          arguments: [RecurrentCell.gru, .rnn])
    func otherCells(cell: RecurrentCell) throws {
        let dir = try temporaryDirectory("resume-\(cell)")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 12)
        options.cell = cell
        options.threads = 2
        options.batch = 8
        var other = options
        other.cell = .lstm  // a resumed run takes its cell from the checkpoint, not from the options
        try Self.expectExactResume(corpus: corpus, dir: dir, options: options, resumedWith: other)
        let saved = try Checkpoint.load(from: dir + "/split/latest.safetensors")
        #expect(saved.model.config.cell == cell)
        #expect(saved.model.parameters.layout.tensors.map(\.name).contains("\(cell.rawValue).weight_hh_l1"))
    }

    @Test("weight averaging with the cosine schedule: stopped at step 5 and resumed, bit-identical")
    func averagedCosine() throws {
        let dir = try temporaryDirectory("resume-average")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 14)
        options.schedule = .cosine
        options.warmupSteps = 3
        options.averageDecay = 0.9
        try Self.expectExactResume(corpus: corpus, dir: dir, options: options)
        // Averaging was on: the saved model is the average, not the raw weights.
        let saved = try Checkpoint.load(from: dir + "/split/latest.safetensors")
        #expect(saved.trainingWeights != nil && saved.trainingWeights?.values != saved.model.parameters.values)
    }

    @Test("a --time budget: the cosine length fixed after 20 steps survives resume, which continues bit-identically")
    func timeBudget() throws {
        let dir = try temporaryDirectory("resume-time")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 1)
        options.maxSteps = nil
        options.schedule = .cosine
        options.warmupSteps = 2
        options.timeBudgetSeconds = 3600  // never runs out here: the sessions stop themselves
        // The first session measures its speed over 20 steps and fixes the cosine length from it.
        #expect(try Self.session(corpus: corpus, out: dir + "/a", options: options, mode: .fresh, steps: 25).step == 25)
        let fixed = try #require(try Checkpoint.load(from: dir + "/a/latest.safetensors").training?.learningRate)
        let length = try #require(fixed.totalSteps, "the plan's length was not fixed after 20 steps")
        #expect(length > 25)
        // The measured length depends on the machine's speed, so the comparison is between two
        // continuations of that one checkpoint: 25 more steps in one session (long enough to pass
        // the 20-step mark again, where a resumed run must not measure anew), and the same steps
        // split across a stop at step 33.
        try FileManager.default.copyItem(atPath: dir + "/a", toPath: dir + "/b")
        #expect(try Self.session(corpus: corpus, out: dir + "/a", options: options, mode: .resume, steps: 25).step == 50)
        #expect(try Self.session(corpus: corpus, out: dir + "/b", options: options, mode: .resume, steps: 8).step == 33)
        #expect(try Self.session(corpus: corpus, out: dir + "/b", options: options, mode: .resume, steps: 17).step == 50)
        try Self.expectSameRun(dir + "/a/latest.safetensors", dir + "/b/latest.safetensors", step: 50)
        #expect(try Checkpoint.load(from: dir + "/a/latest.safetensors").training?.learningRate == fixed)
    }
}

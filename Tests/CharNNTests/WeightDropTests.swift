@_spi(Internals) @testable import CharNN
import Foundation
import Testing

/// `--weight-drop`: DropConnect on every layer's W_hh (``WeightDrop``), checked as the other
/// passes are: the gradient against finite differences, the mask's effect, and exact resume.
@Suite("Weight drop (DropConnect on the recurrent weights)")
struct WeightDropTests {
    @Test("the gradient through the mask matches finite differences of the loss in the raw weights",
          arguments: RecurrentCell.allCases)
    func gradientThroughTheMask(cell: RecurrentCell) throws {
        let problem = try GradientCheckTests.Problem(dropout: 0.3, cell: cell)
        let layout = problem.model.parameters.layout
        var drop = try #require(WeightDrop(probability: 0.4, layout: layout))
        // The loss as a function of the raw weights: masked with the same seed each time.
        func loss(_ raw: CharModel) throws -> Float {
            var masked = raw, copy = drop
            copy.apply(to: &masked.parameters, seed: 21)
            return try problem.loss(model: masked)
        }
        var model = problem.model
        drop.apply(to: &model.parameters, seed: 21)
        _ = try problem.loss(model: model)
        var gradients = ParameterSet(zerosFor: layout)
        try model.backward(workspace: problem.workspace, into: &gradients)
        drop.restore(&model.parameters)
        #expect(model.parameters.values == problem.model.parameters.values, "restore gives back the raw weights bit for bit")
        drop.maskGradient(&gradients)

        var dropped = 0, failures = 0
        for tensor in layout.weightHH {
            for index in tensor.range {
                var plus = problem.model, minus = problem.model
                plus.parameters.values[index] += GradientCheckTests.epsilon
                minus.parameters.values[index] -= GradientCheckTests.epsilon
                let numeric = (try loss(plus) - loss(minus)) / (2 * GradientCheckTests.epsilon)
                if numeric == 0 && gradients.values[index] == 0 { dropped += 1 }
                if !GradientCheckTests.close(numeric, gradients.values[index]) { failures += 1 }
            }
        }
        let total = layout.weightHH.reduce(0) { $0 + $1.count }
        #expect(failures == 0, "\(failures) of \(total) recurrent weights differ from finite differences")
        // p = 0.4 of 2 × 8·G·8 weights: a wrong mask (none dropped, or all) misses this band by far.
        #expect(Double(dropped) > 0.25 * Double(total) && Double(dropped) < 0.55 * Double(total), "\(dropped) of \(total) dropped")
    }

    @Test("the mask drops about p of W_hh, scales the rest by 1/(1−p), touches no other tensor, and follows the seed")
    func maskShape() throws {
        let config = ModelConfig(vocabularySize: 30, embeddingSize: 8, hiddenSize: 32, layers: 2, cell: .lstm)
        let model = try CharModel(config: config, seed: 3)
        var drop = try #require(WeightDrop(probability: 0.25, layout: model.parameters.layout))
        var masked = model.parameters
        drop.apply(to: &masked, seed: 8)
        var zeros = 0, total = 0
        for tensor in model.parameters.layout.tensors {
            for index in tensor.range {
                let raw = model.parameters.values[index], now = masked.values[index]
                if case .weightHH = tensor.role {
                    total += 1
                    if now == 0 { zeros += 1 } else { #expect(now == raw * (1 / 0.75)) }
                } else {
                    #expect(now == raw, "\(tensor.name) changed")
                }
            }
        }
        #expect(abs(Double(zeros) / Double(total) - 0.25) < 0.02, "\(zeros) of \(total) dropped")
        var again = model.parameters, other = model.parameters
        drop.apply(to: &again, seed: 8)
        drop.apply(to: &other, seed: 9)
        #expect(again == masked)
        #expect(other != masked)
        #expect(WeightDrop(probability: 0, layout: model.parameters.layout) == nil)
    }

    @Test("a run with weight drop: trains differently from one without, and resumes bit-identically; the option is saved")
    func resume() throws {
        let dir = try temporaryDirectory("resume-weight-drop")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 12)
        options.threads = 2
        options.batch = 8
        options.cell = .gru
        _ = try TrainingRunTests.train(corpus: corpus, out: dir + "/plain", options: options, mode: .fresh)
        options.weightDrop = 0.3
        var other = options
        other.weightDrop = 0  // a resumed run keeps the saved weight drop
        try ResumeTests.expectExactResume(corpus: corpus, dir: dir, options: options, resumedWith: other)
        let saved = try Checkpoint.load(from: dir + "/split/latest.safetensors")
        #expect(saved.training?.options.weightDrop == 0.3)
        let plain = try Checkpoint.load(from: dir + "/plain/latest.safetensors")
        #expect(plain.model.parameters.values != saved.model.parameters.values)
        #expect(plain.training?.options.weightDrop == 0)
    }

    @Test("--weight-drop: train says it is on and inspect shows it; out of range it is refused naming the flag")
    func commandLine() throws {
        let dir = try temporaryDirectory("weight-drop-cli")
        let corpus = try writeSmallCorpus(in: dir)
        let trained = try CharNNBinary.run(["train", corpus, "--steps", "2", "--weight-drop", "0.3", "--out", dir + "/on",
                                            "--layers", "1", "--hidden", "16", "--embedding", "8", "--batch", "4", "--seq", "8"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("Dropping 0.3 of the recurrent weights each step (--weight-drop)"), "\(trained.stdout)")
        let inspected = try CharNNBinary.run(["inspect", dir + "/on/latest.safetensors"])
        #expect(inspected.status == 0 && inspected.stdout.contains("--weight-drop 0.3"), "\(inspected.stdout)")
        for value in ["1", "-0.1", "nan"] {
            let result = try CharNNBinary.run(["train", corpus, "--steps", "1", "--weight-drop", value, "--out", dir + "/run"])
            expectCleanFailure(result, mentions: ["--weight-drop", "[0, 1)"], status: 64)
            #expect(!FileManager.default.fileExists(atPath: dir + "/run"))
        }
    }
}

@_spi(Internals) @testable import CharNN
import Foundation
import Testing

/// `--locked-dropout`: one dropout mask per stream for the whole window of T steps. The gradient
/// through it is checked against finite differences in GradientCheckTests (for every cell); here,
/// the mask's shape, its independence from the other streams of the batch, exact resume and the
/// command line.
@Suite("Locked (variational) dropout")
struct LockedDropoutTests {
    /// The masks of one training forward pass over [T, B] tokens, per layer [T·B, H].
    static func masks(_ model: CharModel, batch B: Int, steps T: Int, locked: Bool,
                      generators: [RandomGenerator]) throws -> [[Float]] {
        let config = model.config
        let workspace = try ModelWorkspace(config: config, batch: B, steps: T)
        workspace.locksDropoutOverTime = locked
        var state = RecurrentState(layers: config.layers, batch: B, hidden: config.hiddenSize)
        var generators = generators
        let tokens = (0..<(T * B)).map { Int32($0 % config.vocabularySize) }
        _ = try model.forwardTraining(tokens: tokens, targets: tokens, state: &state, workspace: workspace,
                                      streamGenerators: &generators)
        let N = T * B * config.hiddenSize
        return workspace.dropoutMasks.map { Array(UnsafeBufferPointer(start: $0, count: N)) }
    }

    @Test("each stream keeps one mask for all T steps, drops about p, and draws it from its own generator alone")
    func maskShape() throws {
        let config = ModelConfig(vocabularySize: 12, embeddingSize: 4, hiddenSize: 64, layers: 2, dropout: 0.3)
        let model = try CharModel(config: config, seed: 4)
        let (B, T, H) = (3, 6, 64)
        let generators = (0..<B).map { SplitBatchPass.streamGenerator(seed: 17, stream: $0) }
        let locked = try Self.masks(model, batch: B, steps: T, locked: true, generators: generators)
        let keep = 1 / Float(0.7)
        for mask in locked {
            let first = Array(mask[0..<(B * H)])
            for t in 1..<T { #expect(Array(mask[(t * B * H)..<((t + 1) * B * H)]) == first, "step \(t) has another mask") }
            #expect(first.allSatisfy { $0 == 0 || $0 == keep })
            let dropped = first.filter { $0 == 0 }.count
            #expect(dropped > 30 && dropped < 90, "\(dropped) of \(B * H) dropped at p = 0.3")
            #expect(Array(first[0..<H]) != Array(first[H..<(2 * H)]), "two streams drew the same mask")
        }
        // Stream 2 alone, with its own generator, gets the mask it had beside streams 0 and 1.
        let alone = try Self.masks(model, batch: 1, steps: T, locked: true, generators: [generators[2]])
        #expect(Array(alone[0][0..<H]) == Array(locked[0][(2 * H)..<(3 * H)]))
        // Per-step dropout, from the same generators, changes the mask from step to step.
        let perStep = try Self.masks(model, batch: B, steps: T, locked: false, generators: generators)
        #expect(Array(perStep[0][0..<(B * H)]) != Array(perStep[0][(B * H)..<(2 * B * H)]))
    }

    @Test("a run with locked dropout: trains differently from one without, and resumes bit-identically; the option is saved")
    func resume() throws {
        let dir = try temporaryDirectory("resume-locked-dropout")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 12)
        options.threads = 2
        options.batch = 8
        _ = try TrainingRunTests.train(corpus: corpus, out: dir + "/plain", options: options, mode: .fresh)
        options.lockedDropout = true
        var other = options
        other.lockedDropout = false  // a resumed run keeps the saved choice
        try ResumeTests.expectExactResume(corpus: corpus, dir: dir, options: options, resumedWith: other)
        let saved = try Checkpoint.load(from: dir + "/split/latest.safetensors")
        #expect(saved.training?.options.lockedDropout == true)
        let plain = try Checkpoint.load(from: dir + "/plain/latest.safetensors")
        #expect(plain.model.parameters.values != saved.model.parameters.values)
        #expect(plain.training?.options.lockedDropout == false)
    }

    @Test("--locked-dropout: train says it is on and inspect shows it; without dropout it is refused, naming the flag and why")
    func commandLine() throws {
        let dir = try temporaryDirectory("locked-dropout-cli")
        let corpus = try writeSmallCorpus(in: dir)
        let shape = ["--layers", "1", "--hidden", "16", "--embedding", "8", "--batch", "4", "--seq", "8"]
        let trained = try CharNNBinary.run(["train", corpus, "--steps", "2", "--locked-dropout", "--out", dir + "/on"] + shape)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("Keeping each stream's dropout mask for the whole --seq window (--locked-dropout)"),
                "\(trained.stdout)")
        let inspected = try CharNNBinary.run(["inspect", dir + "/on/latest.safetensors"])
        #expect(inspected.status == 0 && inspected.stdout.contains("--locked-dropout"), "\(inspected.stdout)")
        let refused = try CharNNBinary.run(["train", corpus, "--steps", "1", "--locked-dropout", "--dropout", "0",
                                            "--out", dir + "/run"] + shape)
        expectCleanFailure(refused, mentions: ["--locked-dropout", "needs a dropout above 0"], status: 64)
        #expect(!FileManager.default.fileExists(atPath: dir + "/run"))
    }
}

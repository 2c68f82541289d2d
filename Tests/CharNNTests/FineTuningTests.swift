@_spi(Internals) import CharNN
import Foundation
import Testing

/// Fine-tuning (`charnn train NEW --init-from MODEL`): the library's start from a model, growing
/// the vocabulary, and the command line's refusals.
@Suite("Fine-tuning a trained model", .timeLimit(.minutes(5)))
struct FineTuningTests {
    /// A trained tiny model (a few steps on the small corpus) to start from, and its directory.
    static func pretrained(cell: RecurrentCell = .lstm) throws -> (dir: String, model: String) {
        let dir = try temporaryDirectory("finetune")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 6)
        options.cell = cell
        _ = try TrainingRunTests.train(corpus: corpus, out: dir + "/base", options: options, mode: .fresh)
        return (dir, dir + "/base/latest.safetensors")
    }

    /// A text in the small corpus's symbols only, and one with more (among them "ß" and "€").
    static func writeNewText(in dir: String, extra: Bool) throws -> String {
        let line = extra ? "The lazy dog sleeps. Straße kostet 5 €.\n" : "The lazy dog jumps over the quick fox.\n"
        let path = dir + (extra ? "/extra.txt" : "/same.txt")
        try String(repeating: line, count: 60).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a trainer started from a model has its weights and vocabulary, a fresh optimizer, and the options' dropout",
          arguments: RecurrentCell.allCases)
    func trainerStartsFromModel(cell: RecurrentCell) throws {
        let (dir, path) = try Self.pretrained(cell: cell)
        let checkpoint = try Checkpoint.load(from: path)
        let text = try Self.writeNewText(in: dir, extra: false)
        let encoding = try checkpoint.tokenizer.encode(fileAtPath: text)
        let data = TrainingData(tokenizer: checkpoint.tokenizer, tokens: encoding.tokens, validationFraction: 0.1, fileName: "same.txt")
        var options = tinyTrainingOptions(steps: 3)
        options.cell = cell
        options.dropout = 0.4
        let trainer = try Trainer(data: data, startingFrom: checkpoint.model, options: options)
        #expect(trainer.model.parameters == checkpoint.model.parameters)
        #expect(trainer.model.config.dropout == 0.4 && trainer.model.config.cell == cell)
        #expect(trainer.state.step == 0 && trainer.optimizer.stepCount == 0)
        try trainer.train(steps: 2)
        #expect(trainer.model.parameters != checkpoint.model.parameters)

        var wrong = options
        wrong.hiddenSize = 32
        #expect(throws: TrainingError.invalidOption(field: "hiddenSize", problem: "must be the model's 16, got 32")) {
            try Trainer(data: data, startingFrom: checkpoint.model, options: wrong)
        }
        wrong = options
        wrong.cell = cell == .gru ? .rnn : .gru
        #expect(throws: TrainingError.self) { try Trainer(data: data, startingFrom: checkpoint.model, options: wrong) }
    }

    @Test("growing the vocabulary keeps every weight, draws new embedding rows and gives new symbols zero head weights and the smallest bias")
    func extendingVocabulary() throws {
        let config = ModelConfig(vocabularySize: 7, embeddingSize: 3, hiddenSize: 5, layers: 2, cell: .gru)
        var model = try CharModel(config: config, seed: 4)
        var rng = RandomGenerator(seed: 2)
        let bias = model.parameters.layout[.headBias]
        for i in bias.range { model.parameters.values[i] = rng.nextUnitFloat() - 0.5 }
        let grown = try model.extendingVocabulary(by: 2, using: &rng)
        #expect(grown.config.vocabularySize == 9)
        for t in model.parameters.layout.tensors {
            let after = try #require(grown.parameters.tensor(t.name))
            let before = try #require(model.parameters.tensor(t.name))
            #expect(Array(after.prefix(before.count)) == before, "\(t.name) keeps its values")
        }
        let embedding = try #require(grown.parameters.tensor("embedding.weight"))
        #expect(embedding[21..<27].allSatisfy { $0 != 0 })
        let head = try #require(grown.parameters.tensor("head.weight")), headBias = try #require(grown.parameters.tensor("head.bias"))
        #expect(head[35..<45].allSatisfy { $0 == 0 })
        let smallest = try #require(model.parameters.tensor("head.bias")?.min())
        #expect(headBias[7] == smallest && headBias[8] == smallest)

        // The old symbols' logits are unchanged; the new ones' equal their bias whatever the state.
        let tokens: [Int32] = [1, 4, 6, 0]
        var state = RecurrentState(layers: 2, batch: 1, hidden: 5), grownState = state
        let ws = try ModelWorkspace(config: config, batch: 1, steps: 4)
        let grownWs = try ModelWorkspace(config: grown.config, batch: 1, steps: 4)
        try model.forward(tokens: tokens, state: &state, workspace: ws)
        try grown.forward(tokens: tokens, state: &grownState, workspace: grownWs)
        let old = ws.logitsCopy(), new = grownWs.logitsCopy()
        for t in 0..<4 {
            #expect(Array(new[(t * 9)..<(t * 9 + 7)]) == Array(old[(t * 7)..<(t * 7 + 7)]))
            #expect(new[t * 9 + 7] == smallest && new[t * 9 + 8] == smallest)
        }
        #expect(throws: ModelError.self) { try model.extendingVocabulary(by: -1, using: &rng) }
    }

    @Test("appending symbols keeps every id")
    func appendingSymbols() throws {
        let vocabulary = try Vocabulary(counting: "abcab")
        let grown = try vocabulary.appending(["ß", "€"], counts: [3, 1])
        #expect(grown.count == vocabulary.count + 2)
        for symbol in vocabulary.symbols { #expect(grown.id(of: symbol) == vocabulary.id(of: symbol)) }
        #expect(grown.id(of: "ß") == vocabulary.count && grown.id(of: "€") == vocabulary.count + 1)
        #expect(throws: TextError.self) { try vocabulary.appending(["a"], counts: [1]) }
    }

    @Test("charnn train --init-from: a new run from the model; symbols it lacks are listed, or added with --extend-vocab")
    func commandLine() throws {
        let (dir, model) = try Self.pretrained(cell: .gru)
        let base = try Checkpoint.load(from: model)
        let extra = try Self.writeNewText(in: dir, extra: true)
        let lacking = try base.tokenizer.encode(bytes: Array(try String(contentsOfFile: extra, encoding: .utf8).utf8),
                                                droppingUnknown: true).unknownSymbols
        #expect(lacking.contains("ß") && lacking.contains("€"))
        let budget = ["--steps", "4", "--batch", "4", "--seq", "8", "--threads", "1", "--eval-every", "2"]

        // Symbols the vocabulary lacks: one line naming each, exit 65, no run directory.
        let refused = try CharNNBinary.run(["train", extra, "--init-from", model, "--out", dir + "/refused"] + budget)
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("\"ß\"") && refused.stderr.contains("\"€\"") && refused.stderr.contains("--extend-vocab"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir + "/refused"))

        let tuned = try CharNNBinary.run(["train", extra, "--init-from", model, "--extend-vocab", "--out", dir + "/tuned", "--lr", "0.001"] + budget)
        #expect(tuned.status == 0, "\(tuned.stderr)")
        #expect(tuned.stdout.contains("Fine-tuning \(model)") && tuned.stdout.contains("Added \(lacking.count) symbol(s)"), "\(tuned.stdout)")
        let saved = try Checkpoint.load(from: dir + "/tuned/latest.safetensors")
        #expect(saved.model.config.cell == .gru && saved.model.config.hiddenSize == 16)
        #expect(saved.tokenizer.vocabulary.symbols == base.tokenizer.vocabulary.symbols + lacking)
        #expect(Array(saved.tokenizer.vocabulary.symbols.prefix(base.tokenizer.vocabulary.count)) == base.tokenizer.vocabulary.symbols)
        #expect(saved.training?.step == 4 && saved.optimizer?.stepCount == 4 && saved.training?.options.learningRate == 0.001)
        // The fine-tuned run resumes like any run.
        let resumed = try CharNNBinary.run(["train", extra, "--resume", "--out", dir + "/tuned", "--steps", "6", "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Checkpoint.load(from: dir + "/tuned/latest.safetensors").training?.step == 6)
    }

    @Test("options the model fixes are refused by name with --init-from", arguments: [
        (["--cell", "lstm"], "--cell"), (["--layers", "2"], "--layers"), (["--hidden", "16"], "--hidden"),
        (["--embedding", "8"], "--embedding"), (["--unit", "scalar"], "--unit"), (["--min-count", "2"], "--min-count"),
        // Given at their default values, still refused: the model, not the default, decides.
        (["--unit", "grapheme"], "--unit"), (["--normalize", "nfc"], "--normalize"), (["--min-count", "1"], "--min-count"),
        (["--resume"], "--resume"),
    ])
    func fixedOptions(arguments: [String], flag: String) throws {
        let dir = try temporaryDirectory("finetune-options")
        let corpus = try writeSmallCorpus(in: dir)
        let result = try CharNNBinary.run(["train", corpus, "--init-from", dir + "/model.safetensors", "--out", dir + "/run"] + arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(flag) && result.stderr.contains("--init-from"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/run"))
        let lone = try CharNNBinary.run(["train", corpus, "--extend-vocab", "--out", dir + "/run"])
        #expect(lone.status == 64 && lone.stderr.contains("--extend-vocab needs --init-from"), "\(lone.stderr)")
    }
}

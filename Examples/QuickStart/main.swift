// charnn as a library, start to finish: train a tiny model on a string, sample from it, score
// some text, save and reload the model, then train on a file as `charnn train` does and sample
// from the best checkpoint. Uses only CharNN's public API. Sources/CharNN/CharNN.docc/
// GettingStarted.md quotes this program (scripts/check-docs checks that it still does).
//
//   swift run QuickStart
import CharNN
import Foundation

// 1. Text → symbols. The tokenizer is built from the training text itself.
let text = String(repeating: """
    Twinkle, twinkle, little star, how I wonder what you are!
    Up above the world so high, like a diamond in the sky.

    """, count: 60)
let corpus = try Tokenizer.build(text: text)
print("vocabulary: \(corpus.tokenizer.vocabulary.count) symbols, \(corpus.tokens.count) in the text")

// 2. Train. TrainingOptions holds every hyperparameter with a sensible default.
var options = TrainingOptions()
options.hiddenSize = 64
options.embeddingSize = 16
options.batch = 8
options.sequenceLength = 32
options.learningRate = 1e-2
let data = TrainingData(tokenizer: corpus.tokenizer, tokens: corpus.tokens, validationFraction: 0.1, fileName: "twinkle")
let trainer = try Trainer(data: data, options: options)
try trainer.train(steps: 300) { step, loss in
    if step % 100 == 0 { print("step \(step): training loss \(String(format: "%.3f", loss)) nats/char") }
}
if let validation = try trainer.evaluate() { print("validation loss \(String(format: "%.3f", validation)) nats/char") }

// 3. Sample: a Sampler is a sequence of symbols.
let sampler = try Sampler(model: trainer.model, tokenizer: corpus.tokenizer,
                          options: SamplingOptions(temperature: 0.5), prime: "Twinkle", seed: 42)
print("sample: Twinkle" + sampler.prefix(60).joined())

// 4. Score: how surprised the model is by a text (lower is better).
let scorer = try Scorer(model: trainer.model, tokenizer: corpus.tokenizer)
let familiar = try scorer.score("Up above the world so high")
let scrambled = try scorer.score("hgih os dlrow eht evoba pU")
print(String(format: "score: familiar %.2f bits/char, scrambled %.2f bits/char", familiar.bitsPerSymbol, scrambled.bitsPerSymbol))

// 5. Save and reload: a safetensors file that Python can open too.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("charnn-quickstart-\(UUID().uuidString).safetensors").path
try trainer.checkpoint().weightsOnly.write(to: path)
let reloaded = try Checkpoint.load(from: path)
try FileManager.default.removeItem(atPath: path)
print("reloaded \(reloaded.model.parameters.layout.totalCount) parameters: \(reloaded.model == trainer.model ? "identical" : "DIFFERENT")")

// 6. Train on a file, as `charnn train` does: TrainingRun adds a run directory around the trainer,
//    with validation, `log.jsonl`, `loss.svg` and checkpoints, and reports what happens as events.
let work = FileManager.default.temporaryDirectory.appendingPathComponent("charnn-quickstart-\(UUID().uuidString)").path
defer { try? FileManager.default.removeItem(atPath: work) }
let corpusPath = work + ".txt"
defer { try? FileManager.default.removeItem(atPath: corpusPath) }
try text.write(toFile: corpusPath, atomically: true, encoding: .utf8)
var fileOptions = options
fileOptions.maxSteps = 50
let directory = RunDirectory(path: work)
let run = try TrainingRun(corpusPath: corpusPath, textOptions: TextOptions(), options: fileOptions,
                          directory: directory, mode: .fresh)
let summary = try run.run(events: { event in
    if case .evaluated(let record, let isBest) = event, let loss = record.valLoss {
        print("step \(record.step): validation loss \(String(format: "%.3f", loss))\(isBest ? ", best so far" : "")")
    }
}, shouldStop: { false })
print("file run: \(summary.step) steps, files in \(summary.runDirectory)")

// 7. Load the best checkpoint and sample from it.
let best = try Checkpoint.load(from: directory.best)
let bestSampler = try Sampler(model: best.model, tokenizer: best.tokenizer,
                              options: SamplingOptions(temperature: 0.5), prime: "Up", seed: 7)
print("best checkpoint: Up" + bestSampler.prefix(40).joined())

import Foundation

/// Where a fine-tuning run starts: a trained model and what to do about symbols it lacks.
public struct FineTuning: Sendable {
    /// The checkpoint whose model (weights, cell, sizes) and tokenizer (vocabulary and text
    /// options) the run starts from; weights-only or full (then its weight average, if any).
    public var modelPath: String
    /// Add the corpus's symbols that the vocabulary lacks to the model
    /// (``CharModel/extendingVocabulary(by:using:)``) instead of refusing the corpus.
    public var extendVocabulary: Bool
    /// Dropout for the run, or nil to keep the model's.
    public var dropout: Float?

    /// The start from the model at `modelPath`.
    public init(modelPath: String, extendVocabulary: Bool = false, dropout: Float? = nil) {
        self.modelPath = modelPath
        self.extendVocabulary = extendVocabulary
        self.dropout = dropout
    }
}

/// What a fine-tuning run reads before it starts.
struct FineTuningInput {
    var data: TrainingData
    var added: [String]
    var model: CharModel
    var options: TrainingOptions
    var replacedSequences: Int
}

extension FineTuning {
    /// Loads the model, tokenizes the corpus with its tokenizer (extended when asked) and fixes the
    /// options' model fields to the model's. Symbols of the corpus the vocabulary lacks are a
    /// ``TrainingError/symbolsNotInModel(path:model:symbols:)`` naming every one, unless
    /// ``extendVocabulary`` adds them (in text order, after every existing id).
    func read(corpusPath: String, fileName: String, options given: TrainingOptions) throws -> FineTuningInput {
        let checkpoint = try Checkpoint.load(from: modelPath)
        let label = TextFile.displayName(corpusPath)
        let bytes = try TextFile.readText(atPath: corpusPath)
        var tokenizer = checkpoint.tokenizer
        var encoding = try tokenizer.encode(bytes: bytes, file: label, droppingUnknown: true)
        var model = checkpoint.model
        var options = given.withShape(of: model.config)
        var added: [String] = []
        options.dropout = dropout ?? model.config.dropout
        if !encoding.unknownSymbols.isEmpty {
            guard extendVocabulary else {
                throw TrainingError.symbolsNotInModel(path: label, model: modelPath, symbols: encoding.unknownSymbols)
            }
            added = encoding.unknownSymbols
            // Counts come from this text: the old symbols keep theirs from the text the model learned.
            let grown = try tokenizer.vocabulary.appending(added, counts: [Int](repeating: 0, count: added.count))
            tokenizer = Tokenizer(options: tokenizer.options, vocabulary: grown)
            encoding = try tokenizer.encode(bytes: bytes, file: label)
            var counts = [Int](repeating: 0, count: added.count)
            let first = checkpoint.tokenizer.vocabulary.count
            for id in encoding.tokens where Int(id) >= first { counts[Int(id) - first] += 1 }
            let counted = try checkpoint.tokenizer.vocabulary.appending(added, counts: counts)
            tokenizer = Tokenizer(options: tokenizer.options, vocabulary: counted)
            // New embedding rows are drawn as at initialization, from the run's seed.
            var rng = RandomGenerator(seed: options.seed ^ 0xF17E_7E57)
            model = try model.extendingVocabulary(by: added.count, using: &rng)
        }
        let data = TrainingData(tokenizer: tokenizer, tokens: encoding.tokens, validationFraction: options.validationFraction,
                                fileName: fileName)
        return FineTuningInput(data: data, added: added, model: model, options: options, replacedSequences: encoding.replacedSequences)
    }
}

extension TrainingRun {
    /// Opens a new run in `directory` (`.fresh` or `.force`) that fine-tunes the model of `start`
    /// on the corpus at `corpusPath`: the model's weights, cell, sizes, vocabulary and text options,
    /// with a fresh optimizer, schedule and cursor. `options` supply everything else (the rate,
    /// schedule, batch, budget, …); their model fields are replaced by the model's.
    public convenience init(corpusPath: String, fineTuning start: FineTuning, options: TrainingOptions,
                            directory: RunDirectory, mode: RunDirectory.OpenMode, group: ProcessGroup = .single) throws {
        precondition(mode != .resume, "a fine-tuning run starts afresh; resume it as any run")
        try options.validate()
        let opened = try Self.openTogether(group, open: {
            let lock = group.isRoot ? try directory.prepare(mode) : nil
            do {
                let fileName = corpusPath == TextFile.standardInputPath
                    ? TextFile.displayName(corpusPath) : URL(fileURLWithPath: corpusPath).lastPathComponent
                let input = try start.read(corpusPath: corpusPath, fileName: fileName, options: options)
                try input.options.validate()
                try Self.checkUsable(input.data, batch: input.options.batch, steps: input.options.sequenceLength,
                                     path: TextFile.displayName(corpusPath))
                return (input: input, lock: lock)
            } catch {
                if let lock { directory.abandon(lock) }
                throw error
            }
        }, fingerprint: { opened in
            let corpus = opened.input.data.fingerprint
            return [Double(corpus.symbolCount), Double(corpus.tokenChecksum), Double(opened.input.model.parameters.values.count)]
        }, abandon: { opened in if let lock = opened.lock { directory.abandon(lock) } })
        try self.init(data: opened.input.data, options: opened.input.options, directory: directory, resuming: nil,
                      startingFrom: opened.input.model, replacedSequences: opened.input.replacedSequences,
                      lock: opened.lock, group: group)
        fineTuning = (start.modelPath, opened.input.added)
    }
}

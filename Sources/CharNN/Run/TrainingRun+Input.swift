import Foundation

// Reading a run's corpus: a text file (or standard input), or a directory from `charnn prepare`.
extension TrainingRun {
    /// The tokenized corpus (and, resuming, the checkpoint whose vocabulary encoded it), checked usable.
    static func readInput(corpusPath: String, textOptions: TextOptions, options: TrainingOptions,
                                  directory: RunDirectory, mode: RunDirectory.OpenMode) throws
        -> (data: TrainingData, checkpoint: Checkpoint?, replaced: Int)
    {
        // `-` is standard input (see TextFile): named so in errors and in the run's records.
        let label = TextFile.displayName(corpusPath)
        let fileName = corpusPath == TextFile.standardInputPath ? label : URL(fileURLWithPath: corpusPath).lastPathComponent
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: corpusPath, isDirectory: &isDirectory), isDirectory.boolValue {
            return try readPrepared(path: corpusPath, fileName: fileName, textOptions: textOptions, options: options,
                                    directory: directory, mode: mode)
        }
        if mode == .resume {
            let checkpoint = try Checkpoint.load(from: directory.latest)
            guard let saved = checkpoint.training else {
                throw TrainingError.incompatibleResume("\(directory.latest) holds weights only, without optimizer and training state")
            }
            let encoding = try checkpoint.tokenizer.encode(fileAtPath: corpusPath)
            let data = TrainingData(tokenizer: checkpoint.tokenizer, tokens: encoding.tokens,
                                    validationFraction: saved.options.validationFraction, fileName: fileName)
            try checkUsable(data, batch: saved.options.batch, steps: saved.options.sequenceLength, path: label)
            return (data, checkpoint, encoding.replacedSequences)
        }
        let corpus = try Tokenizer.build(fromFile: corpusPath, options: textOptions)
        let data = TrainingData(tokenizer: corpus.tokenizer, tokens: corpus.tokens,
                                validationFraction: options.validationFraction, fileName: fileName)
        try checkUsable(data, batch: options.batch, steps: options.sequenceLength, path: label)
        return (data, nil, corpus.replacedSequences)
    }

    /// A corpus from `charnn prepare`, mapped rather than read: its tokenizer is fixed, so text
    /// options other than the defaults must match it, and a resumed run's vocabulary must be it.
    private static func readPrepared(path: String, fileName: String, textOptions: TextOptions, options: TrainingOptions,
                                     directory: RunDirectory, mode: RunDirectory.OpenMode) throws
        -> (data: TrainingData, checkpoint: Checkpoint?, replaced: Int)
    {
        guard PreparedCorpus.isPrepared(path) else {
            throw PreparedCorpusError.notPrepared(
                path: path, reason: "it is a directory, not a text file; to train on the files in it, run charnn prepare \(path) --out DIR, then charnn train DIR")
        }
        let corpus = try PreparedCorpus(path: path)
        let prepared = corpus.tokenizer.options
        if textOptions != TextOptions() && textOptions != prepared {
            throw TrainingError.unusableCorpus(
                path: path, problem: "it was prepared with --unit \(prepared.unit.rawValue) --normalize \(prepared.normalization.rawValue) "
                    + "--min-count \(prepared.minCount)\(prepared.replaceInvalid ? " --replace-invalid" : ""); text options are fixed when a corpus is prepared")
        }
        var checkpoint: Checkpoint?
        var validationFraction = options.validationFraction
        var shape = (batch: options.batch, steps: options.sequenceLength)
        if mode == .resume {
            let loaded = try Checkpoint.load(from: directory.latest)
            guard let saved = loaded.training else {
                throw TrainingError.incompatibleResume("\(directory.latest) holds weights only, without optimizer and training state")
            }
            guard loaded.tokenizer == corpus.tokenizer else {
                throw TrainingError.incompatibleResume("\(path) was prepared with another vocabulary than \(directory.latest)'s")
            }
            checkpoint = loaded
            validationFraction = saved.options.validationFraction
            shape = (saved.options.batch, saved.options.sequenceLength)
        }
        let data = TrainingData(tokenizer: corpus.tokenizer, tokens: corpus.tokens, validationFraction: validationFraction,
                                fileName: fileName)
        try checkUsable(data, batch: shape.batch, steps: shape.steps, path: path)
        return (data, checkpoint, 0)
    }

    /// Refuses, naming the file, a corpus with nothing to learn or too little for one batch.
    static func checkUsable(_ data: TrainingData, batch: Int, steps: Int, path: String) throws(TrainingError) {
        let symbols = data.tokenizer.vocabulary.symbols
        let total = data.train.count + data.validation.count
        if total == 0 { throw .unusableCorpus(path: path, problem: "the file holds no text; there is nothing to learn from") }
        if symbols.allSatisfy({ $0.allSatisfy(\.isWhitespace) }) {
            throw .unusableCorpus(path: path, problem: "the file holds only whitespace (\(total) symbols); there is nothing to learn from")
        }
        // BatchStreams' own condition: B streams of at least T + 1 symbols.
        let n = data.train.count
        if n == 0 || (n - 1) / batch < steps {
            throw .corpusTooSmall(symbols: n, batch: batch, sequenceLength: steps, path: path)
        }
    }
}

/// A trained model ready to generate, score and predict from several tasks at once.
///
/// A `LanguageModel` is `Sendable`: share one between tasks and threads. Its weights are held
/// once; every concurrent ``generate(prime:length:options:seed:skipUnknown:)`` runs in one batch
/// (continuous batching, see ``GeneratedText``), one batched step per symbol for all of them.
///
/// ```swift
/// let model = try LanguageModel(checkpoint: Checkpoint.load(from: "checkpoints/shakespeare.safetensors"))
/// for try await symbol in try model.generate(prime: "ROMEO:", length: 200, seed: 7) {
///     print(symbol, terminator: "")
/// }
/// let next = try model.distribution(after: "To be or not to b", top: 3)  // "e" first
/// ```
///
/// The same model, prime, options and seed give the same text as ``Sampler`` with one stream (and
/// `charnn sample --seed`) when the generation runs alone in the batch (with `bfloat16` on a CPU
/// with AVX-512, where the sampler reads bf16 panels, only nearly: the batch multiplies the same
/// rounded weights in fp32). Beside others, its row goes through a matrix-matrix product whose
/// rounding may differ in the last bit, which can change a symbol whose draw falls on the boundary
/// between two.
public final class LanguageModel: Sendable {
    /// The weights as trained.
    public let model: CharModel
    /// The model's tokenizer.
    public let tokenizer: Tokenizer
    /// The number format of the weights used for generation, scoring and prediction.
    public let precision: SamplingPrecision
    /// The most generations that run at once; one more throws ``GenerationError/busy(limit:)``.
    public var maxConcurrentGenerations: Int { scheduler.capacity }
    /// The weights as `precision` computes them (for the batched forward passes over primes and texts).
    private let computeModel: CharModel
    private let scheduler: GenerationScheduler

    /// A model for generation. `maxConcurrentGenerations` sizes the batch (its buffers are made
    /// once, here); `precision` defaults to ``SamplingPrecision/samplingDefault``, as `charnn sample`.
    /// Throws ``ModelError/shapeMismatch(_:)`` when the tokenizer's vocabulary is not the model's.
    public init(model: CharModel, tokenizer: Tokenizer, precision: SamplingPrecision = .samplingDefault,
                maxConcurrentGenerations: Int = 256) throws {
        guard tokenizer.vocabulary.count == model.config.vocabularySize else {
            throw ModelError.shapeMismatch("the tokenizer's vocabulary does not match the model")
        }
        self.model = model
        self.tokenizer = tokenizer
        self.precision = precision
        computeModel = precision.applied(to: model)
        scheduler = try GenerationScheduler(model: model, tokenizer: tokenizer, precision: precision,
                                            capacity: maxConcurrentGenerations)
    }

    /// The model and tokenizer of a loaded checkpoint (see ``init(model:tokenizer:precision:maxConcurrentGenerations:)``).
    public convenience init(checkpoint: Checkpoint, precision: SamplingPrecision = .samplingDefault,
                            maxConcurrentGenerations: Int = 256) throws {
        try self.init(model: checkpoint.model, tokenizer: checkpoint.tokenizer, precision: precision,
                      maxConcurrentGenerations: maxConcurrentGenerations)
    }

    deinit { scheduler.stop() }

    /// Generates `length` symbols after `prime`, as they are made (see ``GeneratedText``).
    ///
    /// The prime is read before this returns (on the calling thread, in one batched forward pass);
    /// with no prime, generation starts after a newline, as ``Sampler`` does. The symbols are then
    /// made in the model's shared batch.
    ///
    /// - Throws: ``SamplingError/invalidOption(field:problem:)`` for bad options,
    ///   ``SamplingError/unknownPrimeSymbols(_:)`` for prime symbols the model never saw (unless
    ///   `skipUnknown`), ``GenerationError/invalidLength(_:)``, ``GenerationError/busy(limit:)`` and
    ///   ``GenerationError/shuttingDown``.
    public func generate(prime: String = "", length: Int, options: SamplingOptions = SamplingOptions(),
                         seed: UInt64, skipUnknown: Bool = false) throws -> GeneratedText {
        guard length >= 0 else { throw GenerationError.invalidLength(length) }
        let picker = try SymbolPicker(options: options, vocabularySize: model.config.vocabularySize)
        let (tokens, dropped) = try primeTokens(prime, skipUnknown: skipUnknown)
        let state = tokens.count > 1 ? try Sampler.state(after: tokens.dropLast(), model: computeModel) : nil
        let symbols = try scheduler.enqueue(picker: picker, seed: seed, length: length, firstToken: tokens[tokens.count - 1],
                                            primeState: state)
        return GeneratedText(droppedPrimeSymbols: dropped, symbols: symbols)
    }

    /// The model's probability for each symbol to come next after `text` (at temperature 1), most
    /// likely first; only the first `top` with `top` given. With an empty text, the distribution
    /// of a text's first symbol after a newline. Throws ``SamplingError/unknownPrimeSymbols(_:)``
    /// when `text` holds symbols the model never saw.
    public func distribution(after text: String, top: Int? = nil) throws -> [SymbolProbability] {
        if let top, top < 1 { throw SamplingError.invalidOption(field: "top", problem: "must be at least 1, got \(top)") }
        let (tokens, _) = try primeTokens(text, skipUnknown: false)
        let config = computeModel.config
        var state = tokens.count > 1
            ? try Sampler.state(after: tokens.dropLast(), model: computeModel)
            : RecurrentState(layers: config.layers, batch: 1, hidden: config.hiddenSize)
        let workspace = try ModelWorkspace(config: config, batch: 1, steps: 1)
        try computeModel.forward(tokens: [tokens[tokens.count - 1]], state: &state, workspace: workspace)
        let logits = workspace.logitsCopy()
        let largest = Double(logits.max() ?? 0)
        let weights = logits.map { exp(Double($0) - largest) }
        let total = weights.reduce(0, +)
        let ranked = weights.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
        return ranked.prefix(top ?? ranked.count).map {
            SymbolProbability(symbol: tokenizer.decode(CollectionOfOne($0)), probability: weights[$0] / total)
        }
    }

    /// How well the model predicts `text`, each symbol from all before it (see ``Scorer/score(_:)``),
    /// in this model's precision.
    public func score(_ text: String) throws -> ScoreResult {
        try Scorer(model: computeModel, tokenizer: tokenizer).score(text)
    }

    /// Generations running or about to join the batch.
    public var activeGenerations: Int { scheduler.activeCount }

    /// Symbols generated so far by all generations.
    public var symbolsGenerated: Int { scheduler.symbolCount }

    /// Ends every running generation at its next symbol with ``GenerationError/shuttingDown`` and
    /// refuses new ones: what a server does before it exits.
    public func drain() { scheduler.drain() }

    /// The prime's ids, or the start symbol's alone when it has none; throws for unknown symbols
    /// unless `skipUnknown`.
    private func primeTokens(_ text: String, skipUnknown: Bool) throws -> (tokens: [Int32], dropped: [String]) {
        let encoding = tokenizer.encodeDroppingUnknown(text)
        if !encoding.unknownSymbols.isEmpty && !skipUnknown { throw SamplingError.unknownPrimeSymbols(encoding.unknownSymbols) }
        var tokens = Array(encoding.tokens)
        if tokens.isEmpty { tokens = [Int32(tokenizer.vocabulary.id(of: "\n") ?? 0)] }
        return (tokens, encoding.unknownSymbols)
    }
}

/// One symbol and the probability the model gives it.
public struct SymbolProbability: Sendable, Equatable, Codable {
    /// The symbol, decoded.
    public var symbol: String
    /// Its probability, in [0, 1].
    public var probability: Double

    /// A symbol with its probability.
    public init(symbol: String, probability: Double) {
        self.symbol = symbol
        self.probability = probability
    }
}

#if canImport(Glibc)
    import Glibc
#endif

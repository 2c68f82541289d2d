#if canImport(Glibc)
    import Glibc
#endif

/// Generates text from a model, symbol by symbol, for one or several independent streams.
///
/// The prime text (if any) is fed through the model first; with none, generation starts after a
/// newline symbol (or the most frequent symbol if the vocabulary has no newline). For one stream,
/// a `Sampler` is a `Sequence` of symbols: `for symbol in sampler.prefix(200) { print(symbol, terminator: "") }`.
/// The same model, seed, prime and options always give the same text.
public final class Sampler: Sequence, IteratorProtocol {
    /// The model's tokenizer, which turns generated ids back into symbols.
    public let tokenizer: Tokenizer
    /// Number of independent samples generated side by side (one GEMM per layer and step).
    public let streams: Int
    /// The prime symbols that were not in the vocabulary and were left out (with `skipUnknown`).
    public let droppedPrimeSymbols: [String]
    private let step: InferenceStep
    private var picker: SymbolPicker
    private var rng: RandomGenerator
    private var tokens: [Int32]
    /// Each id's text, decoded once, so generating a symbol allocates nothing.
    private let symbolTexts: [String]

    /// `threads` (1 or 2) defaults to `InferenceStep.recommendedThreads(for:precision:streams:)`; `precision` (by default
    /// ``SamplingPrecision/samplingDefault``) is the number format of the weights.
    ///
    /// - Throws: ``SamplingError/unknownPrimeSymbols(_:)`` when the prime holds symbols the model
    ///   never saw and `skipUnknown` is false; ``SamplingError/invalidOption(field:problem:)`` for bad options.
    public init(model: CharModel, tokenizer: Tokenizer, options: SamplingOptions = SamplingOptions(),
                prime: String = "", skipUnknown: Bool = false, seed: UInt64, streams: Int = 1,
                threads: Int? = nil, precision: SamplingPrecision = .samplingDefault) throws {
        guard tokenizer.vocabulary.count == model.config.vocabularySize else {
            throw ModelError.shapeMismatch("the tokenizer's vocabulary does not match the model")
        }
        guard streams >= 1 else { throw SamplingError.invalidOption(field: "streams", problem: "must be at least 1, got \(streams)") }
        self.tokenizer = tokenizer
        self.streams = streams
        picker = try SymbolPicker(options: options, vocabularySize: model.config.vocabularySize)
        rng = RandomGenerator(seed: seed)
        step = try InferenceStep(model: model, streams: streams, precision: precision)
        // A second thread pays only on some CPUs and model sizes (its hand-off costs more than it
        // saves on others), so where it might pay, a few timed steps decide.
        if let threads { step.threads = threads } else if step.threads > 1 { step.threads = step.fasterThreadCount() }
        let encoding = tokenizer.encodeDroppingUnknown(prime)
        if !encoding.unknownSymbols.isEmpty && !skipUnknown {
            throw SamplingError.unknownPrimeSymbols(encoding.unknownSymbols)
        }
        droppedPrimeSymbols = encoding.unknownSymbols
        var primeTokens = Array(encoding.tokens)
        if primeTokens.isEmpty { primeTokens = [Int32(tokenizer.vocabulary.id(of: "\n") ?? 0)] }
        tokens = [Int32](repeating: 0, count: streams)
        symbolTexts = (0..<tokenizer.vocabulary.count).map { tokenizer.decode(CollectionOfOne($0)) }
        // A prime is known in advance, so all but its last symbol go through the model in one
        // batched forward pass (B = 1, chunks of T) with the training kernels, which read each
        // weight once per chunk instead of once per symbol; the last symbol is stepped, to leave
        // the next symbol's logits. With int8 that pass uses the int8 weights but keeps the activations
        // in fp32 (their per-step rounding has no batched form), so a long prime's state is that close
        // to what stepping would leave.
        if primeTokens.count > 1 {
            step.load(broadcasting: try Self.state(after: primeTokens.dropLast(), model: precision.applied(to: model)))
        }
        feed(primeTokens[primeTokens.count - 1])
    }

    /// The state of one stream after reading `tokens` from the zero state.
    ///
    /// Each chunk's products run with OpenBLAS held at ``primeBLASThreads``, under the lock
    /// `OpenBLASRuntime.withThreads` holds: OpenBLAS's sums depend on its thread count, so a prime
    /// read while another caller (a concurrent request's step at one thread) had set another count
    /// left a different state, and the same seed could then give a different text.
    static func state(after tokens: ArraySlice<Int32>, model: CharModel, chunk: Int = 256) throws(ModelError) -> RecurrentState {
        let config = model.config
        var state = RecurrentState(layers: config.layers, batch: 1, hidden: config.hiddenSize)
        let workspace = try ModelWorkspace(config: config, batch: 1, steps: Swift.min(chunk, tokens.count))
        var start = tokens.startIndex
        while start < tokens.endIndex {
            let end = Swift.min(start + chunk, tokens.endIndex)
            try OpenBLASRuntime.withThreads(primeBLASThreads) { () throws(ModelError) in
                _ = try model.forward(tokens: Array(tokens[start..<end]), state: &state, workspace: workspace)
            }
            start = end
        }
        return state
    }

    /// OpenBLAS threads for a prime's batched pass: two where there are two cores, as its
    /// [chunk, H] products gain from both, whatever count the steps that follow use.
    static let primeBLASThreads = Swift.min(2, Swift.max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    private func feed(_ token: Int32) {
        for n in 0..<streams { tokens[n] = token }
        tokens.withUnsafeBufferPointer { step.step($0) }
    }

    /// The threads each step uses (1 or 2): the one given, or the one chosen at initialization.
    public var threadCount: Int { step.threads }

    /// Advances every stream by one symbol and returns their ids.
    public func nextIDs() -> [Int32] {
        let V = step.config.vocabularySize
        for n in 0..<streams {
            tokens[n] = Int32(picker.pick(UnsafeBufferPointer(start: step.logits + n * V, count: V), rng: &rng))
        }
        let chosen = tokens
        tokens.withUnsafeBufferPointer { step.step($0) }
        return chosen
    }

    /// The next symbol of the first stream. Never ends: take a `prefix`.
    public func next() -> String? {
        symbolTexts[Int(nextIDs()[0])]
    }

    /// Generates up to `length` symbols per stream, calling `emit(stream, symbol)` as each one is
    /// made. A stream ends early once its text ends with `stop` (which is emitted). Returns the
    /// number of symbols each stream produced.
    @discardableResult
    public func generate(length: Int, stop: String? = nil, emit: (Int, String) -> Void) -> [Int] {
        var produced = [Int](repeating: 0, count: streams)
        var finished = [Bool](repeating: false, count: streams)
        var tails = [String](repeating: "", count: streams)
        let stop = stop ?? ""
        var remaining = length
        while remaining > 0 && finished.contains(false) {
            remaining -= 1
            let ids = nextIDs()
            for n in 0..<streams where !finished[n] {
                let symbol = symbolTexts[Int(ids[n])]
                emit(n, symbol)
                produced[n] += 1
                guard !stop.isEmpty else { continue }
                // Keep only a tail long enough to hold the stop string.
                tails[n] += symbol
                if tails[n].count > 2 * stop.count + 8 { tails[n] = String(tails[n].suffix(stop.count + 4)) }
                if tails[n].hasSuffix(stop) { finished[n] = true }
            }
        }
        return produced
    }
}

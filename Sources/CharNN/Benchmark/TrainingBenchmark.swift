import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A fixed, repeatable measurement of training and batch-1 sampling speed, for `charnn bench`
/// and the side-by-side comparison with PyTorch (scripts/compare-peers.sh).
@_spi(Internals) public struct TrainingBenchmark: Sendable {
    /// The recurrent cell; the LSTM unless set.
    public var cell = RecurrentCell.lstm
    public var layers: Int
    public var hidden: Int
    public var embedding: Int
    public var batch: Int
    public var steps: Int
    public var threads: Int
    public var warmupIterations: Int
    public var iterations: Int
    public var sampleSymbols: Int
    /// Stream counts at which to time continuous batching's step as well (``GenerationScheduler``:
    /// N generations advanced one symbol each, the step alone, without picking symbols): phases
    /// `step`, `step_bf16` and `step_int8`, one per count, in symbols/s over all N streams.
    public var stepStreams: [Int] = []

    public init(layers: Int, hidden: Int, embedding: Int, batch: Int, steps: Int, threads: Int,
                warmupIterations: Int, iterations: Int, sampleSymbols: Int) {
        self.layers = layers
        self.hidden = hidden
        self.embedding = embedding
        self.batch = batch
        self.steps = steps
        self.threads = threads
        self.warmupIterations = warmupIterations
        self.iterations = iterations
        self.sampleSymbols = sampleSymbols
    }

    /// One measured phase, printed as a JSON line.
    public struct Result: Sendable, Codable {
        public var phase: String
        public var cell: String
        public var layers: Int, hidden: Int, embedding: Int, batch: Int, seq: Int, vocab: Int, threads: Int
        public var iterations: Int
        public var seconds: Double
        public var charsPerSecond: Double
        public var gflopsPerSecond: Double
        public var peakRSSMiB: Double
        public var loss: Double?
        public var openblasCore: String
        public var kernels: String

        enum CodingKeys: String, CodingKey {
            case phase, cell, layers, hidden, embedding, batch, seq, vocab, threads, iterations, seconds, loss, kernels
            case charsPerSecond = "chars_per_s", gflopsPerSecond = "gflops_per_s", peakRSSMiB = "peak_rss_mib"
            case openblasCore = "openblas_core"
        }
    }

    /// Forward matrix FLOPs per symbol, as ../shared/peers/common.py counts them:
    /// per layer 2·G·H·(X + H) with X the layer's input size and G the cell's gate count (4 for the
    /// LSTM), plus the head's 2·H·V.
    public static func forwardFlopsPerSymbol(layers: Int, hidden: Int, input: Int, vocabulary: Int,
                                             cell: RecurrentCell = .lstm) -> Double {
        let config = ModelConfig(vocabularySize: vocabulary, embeddingSize: input, hiddenSize: hidden, layers: layers, cell: cell)
        return 2 * Double(config.matrixWeightCount)
    }

    /// Peak resident memory of this process so far, in MiB.
    public static var peakRSSMiB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Trains on `data` for the warm-up and then the timed iterations; then samples batch-1 in each
    /// ``SamplingPrecision``.
    public func run(on data: TrainingData) throws -> [Result] {
        var options = TrainingOptions()
        options.cell = cell
        options.layers = layers
        options.hiddenSize = hidden
        options.embeddingSize = embedding
        options.batch = batch
        options.sequenceLength = steps
        options.threads = threads
        // The same model as the PyTorch peer (../shared/peers), which has no dropout; the
        // training default (0.2) would add its masks' work and memory to one side only.
        options.dropout = 0
        OpenBLASRuntime.setThreads(threads)
        let V = data.tokenizer.vocabulary.count
        let clock = ContinuousClock()
        // The trainer (and its workspace) is gone before sampling starts, as in real use.
        let (model, trainSeconds, loss) = try {
            let trainer = try Trainer(data: data, options: options)
            try trainer.train(steps: warmupIterations)
            let start = clock.now
            let loss = try trainer.train(steps: iterations)
            return (trainer.model, (clock.now - start).seconds, loss)
        }()
        let trainFlops = 3 * Self.forwardFlopsPerSymbol(layers: layers, hidden: hidden, input: embedding, vocabulary: V, cell: cell)
        let chars = Double(iterations * batch * steps) / trainSeconds
        var results = [result("train", iterations: iterations, seconds: trainSeconds, chars: chars, flops: trainFlops, vocab: V, loss: loss)]

        // Batch-1 sampling, in fp32 ("sample"), with bf16 weights ("sample_bf16") and in int8 ("sample_int8").
        let sampleFlops = Self.forwardFlopsPerSymbol(layers: layers, hidden: hidden, input: embedding, vocabulary: V, cell: cell)
        for precision in SamplingPrecision.allCases {
            let sampleThreads = min(threads, InferenceStep.recommendedThreads(for: model.config, precision: precision))
            OpenBLASRuntime.setThreads(sampleThreads)
            let sampler = try Sampler(model: model, tokenizer: data.tokenizer, options: SamplingOptions(temperature: 0.8),
                                      seed: 1, threads: sampleThreads, precision: precision)
            sampler.generate(length: min(500, sampleSymbols)) { _, _ in }
            let sampleStart = clock.now
            sampler.generate(length: sampleSymbols) { _, _ in }
            let sampleSeconds = (clock.now - sampleStart).seconds
            results.append(result(Self.phase("sample", precision), iterations: sampleSymbols,
                                  seconds: sampleSeconds, chars: Double(sampleSymbols) / sampleSeconds, flops: sampleFlops,
                                  vocab: V, loss: nil))
        }
        for streams in stepStreams {
            for precision in SamplingPrecision.allCases {
                results.append(try timeBatchedStep(model, streams: streams, precision: precision, flops: sampleFlops))
            }
        }
        return results
    }

    /// `streams` streams stepped together as the scheduler steps them (its thread choice, at most
    /// ``threads``), each fed a fixed symbol; enough steps for about ``sampleSymbols`` symbols.
    private func timeBatchedStep(_ model: CharModel, streams: Int, precision: SamplingPrecision,
                                 flops: Double) throws -> Result {
        let V = model.config.vocabularySize
        let step = try InferenceStep(model: model, streams: streams, precision: precision)
        step.threads = min(threads, InferenceStep.recommendedThreads(for: model.config, precision: precision, streams: streams))
        let tokens = (0..<streams).map { Int32($0 % V) }
        let count = max(20, sampleSymbols / streams)
        let clock = ContinuousClock()
        let seconds = tokens.withUnsafeBufferPointer { t in
            for _ in 0..<10 { step.step(t) }
            let start = clock.now
            for _ in 0..<count { step.step(t) }
            return (clock.now - start).seconds
        }
        return result(Self.phase("step", precision), iterations: count, seconds: seconds, chars: Double(count * streams) / seconds, flops: flops,
                      vocab: V, loss: nil, batch: streams, threads: step.threads)
    }

    /// A phase's name in a number format: `base` for float32, else `base_bf16` or `base_int8`.
    private static func phase(_ base: String, _ precision: SamplingPrecision) -> String {
        switch precision {
        case .float32: base
        case .bfloat16: base + "_bf16"
        case .int8: base + "_int8"
        }
    }

    private func result(_ phase: String, iterations: Int, seconds: Double, chars: Double, flops: Double, vocab: Int,
                        loss: Double?, batch: Int? = nil, threads: Int? = nil) -> Result {
        Result(phase: phase, cell: cell.rawValue, layers: layers, hidden: hidden, embedding: embedding,
               batch: batch ?? (phase.hasPrefix("sample") ? 1 : self.batch),
               seq: steps, vocab: vocab, threads: threads ?? OpenBLASRuntime.threads, iterations: iterations, seconds: seconds,
               charsPerSecond: chars, gflopsPerSecond: chars * flops / 1e9, peakRSSMiB: Self.peakRSSMiB, loss: loss,
               openblasCore: OpenBLASRuntime.coreName, kernels: Activations.variant)
    }
}

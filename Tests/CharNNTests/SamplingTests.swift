@_spi(Internals) import CharNN
import Foundation
import Testing

@Suite("Sampling")
struct SamplingTests {
    /// A small model trained briefly on the multilingual corpus, shared by the tests below.
    static let trained: Checkpoint = {
        let dir = try! temporaryDirectory("sampling")
        let corpus = try! writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 40)
        options.dropout = 0
        let run = try! TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                   directory: RunDirectory(path: dir + "/run"), mode: .fresh)
        _ = try! run.run(events: { _ in }, shouldStop: { false })
        return try! Checkpoint.load(from: dir + "/run/latest.safetensors")
    }()

    static func sample(_ options: SamplingOptions = SamplingOptions(), prime: String = "", seed: UInt64 = 1,
                       length: Int = 200, streams: Int = 1) throws -> [String] {
        let sampler = try Sampler(model: trained.model, tokenizer: trained.tokenizer, options: options, prime: prime,
                                  seed: seed, streams: streams)
        var texts = [String](repeating: "", count: streams)
        sampler.generate(length: length) { texts[$0] += $1 }
        return texts
    }

    @Test("one step at a time gives the same logits as the batched training forward pass")
    func inferenceMatchesForward() throws {
        let model = Self.trained.model
        let tokens = Array(try Self.trained.tokenizer.encode("The lazy dog. 春眠不觉晓 Съешь").tokens)
        let workspace = try ModelWorkspace(config: model.config, batch: 1, steps: tokens.count)
        var state = RecurrentState(layers: model.config.layers, batch: 1, hidden: model.config.hiddenSize)
        try model.forward(tokens: tokens, state: &state, workspace: workspace)
        let expected = workspace.logitsCopy()
        let step = try InferenceStep(model: model, streams: 1)
        let V = model.config.vocabularySize
        for (t, token) in tokens.enumerated() {
            [token].withUnsafeBufferPointer { step.step($0) }
            for v in 0..<V { #expect(abs(step.logits[v] - expected[t * V + v]) < 1e-4) }
        }
    }

    @Test("a second thread is used once the weights read per symbol reach 384 KiB")
    func threadChoice() throws {
        func config(_ hidden: Int) -> ModelConfig {
            ModelConfig(vocabularySize: 65, embeddingSize: 64, hiddenSize: hidden, layers: 2)
        }
        let two = min(2, ProcessInfo.processInfo.activeProcessorCount)
        // 2×64 reads 272 KiB of fp32 weights per symbol; 2×128 928 KiB, 464 KiB in bf16.
        #expect(InferenceStep.recommendedThreads(for: config(64)) == 1)
        #expect(InferenceStep.recommendedThreads(for: config(128)) == two)
        #expect(InferenceStep.recommendedThreads(for: config(512), precision: .bfloat16) == two)
        // Several streams multiply the arithmetic on each weight read.
        #expect(InferenceStep.recommendedThreads(for: config(64), streams: 4) == two)
    }

    /// Without AVX-512 the sampler's products go through OpenBLAS whatever `threads` says, so one
    /// and two threads would run the same code and the comparison would prove nothing.
    @Test("two sampling threads give the same text as one (the packed kernel's row split)",
          .enabled(if: PackedGEMM.isSupported, "needs the packed kernels (AVX2 or AVX-512): elsewhere the thread count does not reach the products"))
    func threadsGiveSameText() throws {
        let model = Self.trained.model
        var texts: [String] = []
        for threads in [1, 2] {
            let sampler = try Sampler(model: model, tokenizer: Self.trained.tokenizer, seed: 3, threads: threads)
            var text = ""
            sampler.generate(length: 300) { text += $1 }
            texts.append(text)
        }
        #expect(texts[0] == texts[1] && texts[0].count == 300)
    }

    @Test("the same seed and options give the same text; another seed another text")
    func seedDeterminism() throws {
        let options = SamplingOptions(temperature: 0.9, topP: 0.95)
        #expect(try Self.sample(options, seed: 7) == Self.sample(options, seed: 7))
        #expect(try Self.sample(options, seed: 7) != Self.sample(options, seed: 8))
    }

    @Test("--length counts symbols of the model's unit exactly, in every stream")
    func lengthIsExact() throws {
        for length in [0, 1, 17, 250] {
            for text in try Self.sample(length: length, streams: 3) {
                #expect(Self.trained.tokenizer.symbols(of: text).count == length)
            }
        }
    }

    // (A Swift String is valid UTF-8 by construction; the bytes `charnn sample` writes are checked
    // as bytes in UseCLITests.)
    @Test("output is made of vocabulary symbols, for a grapheme model on mixed scripts")
    func vocabularySymbols() throws {
        let text = try Self.sample(SamplingOptions(temperature: 1.5), length: 2000)[0]
        let known = Set(Self.trained.tokenizer.vocabulary.symbols)
        #expect(Self.trained.tokenizer.symbols(of: text).allSatisfy { known.contains($0) || $0.contains("\r\n") })
        #expect(text.unicodeScalars.contains { $0.value > 0x2E80 }, "a long sample should reach CJK or emoji")
    }

    @Test("top-k 1 equals argmax, and so does a tiny top-p")
    func greedyEquivalents() throws {
        let greedy = try Self.sample(SamplingOptions(argmax: true), seed: 3)
        #expect(try Self.sample(SamplingOptions(topK: 1), seed: 99) == greedy)
        #expect(try Self.sample(SamplingOptions(topP: 1e-9), seed: 5) == greedy)
        #expect(try Self.sample(SamplingOptions(temperature: 1e-6), seed: 11) == greedy)
        #expect(try Self.sample(SamplingOptions(temperature: 1), seed: 11) != greedy)
    }

    @Test("greedy decoding breaks ties towards the lowest index, whatever the options")
    func argmaxTies() throws {
        // Equal weights keep index order in the top-k/top-p sort; argmax must agree, or
        // --argmax and --top-k 1 would pick different symbols on a tie.
        let logits: [Float] = [1, 3, 3, 2, 3]
        #expect(logits.withUnsafeBufferPointer { SymbolPicker.argmax($0) } == 1)
        for options in [SamplingOptions(argmax: true), SamplingOptions(topK: 1), SamplingOptions(temperature: 1e-320)] {
            var picker = try SymbolPicker(options: options, vocabularySize: 5)
            var rng = RandomGenerator(seed: 4)
            #expect(logits.withUnsafeBufferPointer { picker.pick($0, rng: &rng) } == 1, "\(options)")
        }
    }

    @Test("top-k and top-p restrict choices to the most likely symbols")
    func restriction() throws {
        let logits: [Float] = [1, 5, 3, 4, 2]
        var picker = try SymbolPicker(options: SamplingOptions(topK: 2), vocabularySize: 5)
        var rng = RandomGenerator(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<500 { seen.insert(logits.withUnsafeBufferPointer { picker.pick($0, rng: &rng) }) }
        #expect(seen == [1, 3])
        // p(1) ≈ 0.64, p(3) ≈ 0.24: top-p 0.7 keeps exactly those two.
        picker = try SymbolPicker(options: SamplingOptions(topP: 0.7), vocabularySize: 5)
        seen = []
        for _ in 0..<500 { seen.insert(logits.withUnsafeBufferPointer { picker.pick($0, rng: &rng) }) }
        #expect(seen == [1, 3])
        // With no restriction every symbol appears, roughly in proportion.
        picker = try SymbolPicker(options: SamplingOptions(), vocabularySize: 5)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<20000 { counts[logits.withUnsafeBufferPointer { picker.pick($0, rng: &rng) }] += 1 }
        let p1 = exp(5.0) / [1.0, 5, 3, 4, 2].map { exp($0) }.reduce(0, +)
        #expect(abs(Double(counts[1]) / 20000 - p1) < 0.02)
        #expect(counts.allSatisfy { $0 > 0 })
    }

    @Test("top-p keeps the smallest set whose mass reaches p, stopping when it lands exactly on p")
    func topPBoundary() throws {
        // Four equal weights (exactly 1 each, so the sums are exact): the first two reach
        // exactly half the mass, so top-p 0.5 keeps those two and never a third. Equal weights
        // keep index order, so the two are symbols 0 and 1.
        let logits: [Float] = [0, 0, 0, 0]
        var picker = try SymbolPicker(options: SamplingOptions(topP: 0.5), vocabularySize: 4)
        var rng = RandomGenerator(seed: 7)
        var seen = Set<Int>()
        for _ in 0..<400 { seen.insert(logits.withUnsafeBufferPointer { picker.pick($0, rng: &rng) }) }
        #expect(seen == [0, 1])
        // Just above the boundary one more symbol is needed.
        picker = try SymbolPicker(options: SamplingOptions(topP: 0.5000001), vocabularySize: 4)
        seen = []
        for _ in 0..<400 { seen.insert(logits.withUnsafeBufferPointer { picker.pick($0, rng: &rng) }) }
        #expect(seen == [0, 1, 2])
    }

    @Test("invalid sampling options are refused, naming the field")
    func invalidOptions() {
        for (options, field) in [(SamplingOptions(temperature: 0), "temperature"), (SamplingOptions(temperature: .nan), "temperature"),
                                 (SamplingOptions(temperature: .infinity), "temperature"), (SamplingOptions(topK: 0), "topK"),
                                 (SamplingOptions(topP: 0), "topP"), (SamplingOptions(topP: 1.5), "topP")] {
            #expect { try options.validate() } throws: { error in
                guard case .invalidOption(field, _)? = error as? SamplingError else { return false }
                return !"\(error)".contains("--")
            }
        }
    }

    @Test("prime text conditions the sample; unknown prime symbols are listed or skipped")
    func prime() throws {
        let primed = try Self.sample(prime: "The quick brown fox jumps over the lazy ", seed: 4)
        let unprimed = try Self.sample(seed: 4)
        #expect(primed != unprimed)
        #expect { try Self.sample(prime: "fox ΩΩ ≈") } throws: { error in
            guard case SamplingError.unknownPrimeSymbols(let symbols) = error else { return false }
            return symbols == ["Ω", "≈"]
        }
        let sampler = try Sampler(model: Self.trained.model, tokenizer: Self.trained.tokenizer, prime: "fox ΩΩ ≈",
                                  skipUnknown: true, seed: 1)
        #expect(sampler.droppedPrimeSymbols == ["Ω", "≈"])
        // An empty prime and a prime longer than any training sequence both work.
        #expect(try Self.sample(prime: "", length: 5)[0].count > 0)
        #expect(try Self.sample(prime: String(repeating: "The quick brown fox. ", count: 50), length: 5)[0].count > 0)
    }

    @Test("a stop string ends each sample right after it")
    func stop() throws {
        let sampler = try Sampler(model: Self.trained.model, tokenizer: Self.trained.tokenizer, seed: 2, streams: 4)
        var texts = [String](repeating: "", count: 4)
        let produced = sampler.generate(length: 5000, stop: "\n") { texts[$0] += $1 }
        for (n, text) in texts.enumerated() {
            #expect(text.hasSuffix("\n") && text.dropLast().contains("\n") == false, "\(text)")
            #expect(produced[n] == Self.trained.tokenizer.symbols(of: text).count)
        }
    }
}

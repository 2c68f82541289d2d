import ArgumentParser
@_spi(Internals) import CharNN
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension SamplingPrecision: ExpressibleByArgument {}

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate text from a trained model, streamed to standard output.",
        discussion: """
            Without --checkpoint, the most recently modified best.safetensors under ./checkpoints/ is \
            used (and named on standard error); with none, the pretrained Shakespeare model that ships \
            with charnn. Each symbol is chosen at random according to the \
            model's prediction, shaped by --temperature, --top-k and --top-p; --argmax always takes \
            the most likely one. The same checkpoint, seed and options always give the same text.

            On a terminal the text appears symbol by symbol; into a pipe or file it is written at \
            least at every line end and every 100 ms, so `charnn sample | tee out.txt` shows it as it \
            comes. --buffered writes in 64 KiB blocks instead, for bulk output.

            With --json nothing is printed until the end, then one object: samples (the generated \
            texts, one per --count, without the prime), seed (the one used), and the settings \
            checkpoint, precision, length, count, prime, temperature, top_k, top_p, argmax and stop \
            (null when not given).
            """
    )

    @Option(parsing: .unconditional, help: ArgumentHelp("The checkpoint to generate from (default: the newest checkpoints/**/best.safetensors).", valueName: "path"))
    var checkpoint: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Below 1 makes the text safer and more repetitive, above 1 more surprising; must be above 0 (default: \(SamplingOptions().temperature)).", valueName: "t"))
    var temperature: Double?
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: ArgumentHelp("Choose only among the K most likely symbols.", valueName: "k"))
    var topK: Int?
    @Option(name: .customLong("top-p"), parsing: .unconditional, help: ArgumentHelp("Choose only among the most likely symbols whose probabilities add up to P, in (0, 1].", valueName: "p"))
    var topP: Double?
    @Flag(help: "Always take the most likely symbol (greedy). Conflicts with --temperature, --top-k and --top-p.")
    var argmax = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Symbols to generate per sample, in the model's unit.", valueName: "n"))
    var length = 1000
    @Option(parsing: .unconditional, help: ArgumentHelp("Text to start from; it is fed through the model first and printed unless --no-echo.", valueName: "text"))
    var prime: String?
    @Option(name: .customLong("prime-file"), parsing: .unconditional, help: ArgumentHelp("Read the prime text from a UTF-8 file; - reads standard input.", valueName: "file"))
    var primeFile: String?
    @Flag(name: .customLong("no-echo"), help: "Do not print the prime text before the generated text.")
    var noEcho = false
    @Flag(name: .customLong("skip-unknown"), help: "Leave out prime symbols the model never saw, instead of stopping with an error.")
    var skipUnknown = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Random seed; with none, one is chosen and printed on standard error so the run can be repeated.", valueName: "n"))
    var seed: UInt64?
    @Option(parsing: .unconditional, help: ArgumentHelp("Independent samples to generate together.", valueName: "n"))
    var count = 1
    @Option(parsing: .unconditional, help: ArgumentHelp("Printed between samples when --count is above 1 (default: a blank line).", valueName: "text"))
    var separator: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("End a sample as soon as it has generated this text.", valueName: "text"))
    var stop: String?
    @Flag(help: "Write into a pipe or file in 64 KiB blocks rather than line by line (faster for bulk output).")
    var buffered = false
    @Flag(help: "Print one JSON object at the end instead of streaming the text.")
    var json = false
    @Option(parsing: .unconditional, help: ArgumentHelp("CPU threads, 1 or 2 (default: for a model whose weights read per symbol reach 384 KiB, whichever of 1 and 2 a few timed steps find faster on this CPU; else 1).", valueName: "n"))
    var threads: Int?

    // The library's default (SamplingPrecision.samplingDefault says why).
    @Option(parsing: .unconditional, help: ArgumentHelp("Number format of the weights while sampling: float32; bfloat16 (each weight rounded to 16 bits, arithmetic in fp32; validation loss within 0.0001 nats of float32); or int8 (8-bit weights with a scale per row, activations rounded to 8 bits each step; about 0.001 nats). The default is the fastest measured for this CPU (docs/performance.md): bfloat16 with AVX-512, int8 with AVX2, else float32.", valueName: "format"))
    var precision = SamplingPrecision.samplingDefault

    func validate() throws {
        if argmax && (temperature != nil || topK != nil || topP != nil) {
            throw ValidationError("--argmax conflicts with --temperature, --top-k and --top-p: greedy decoding takes no randomness")
        }
        if prime != nil && primeFile != nil { throw ValidationError("--prime and --prime-file conflict; give one") }
        guard length >= 0 else { throw ValidationError("--length must be 0 or more, got \(length)") }
        if let threads, !(1...2).contains(threads) { throw ValidationError("--threads must be 1 or 2, got \(threads)") }
        guard count >= 1 && count <= 4096 else { throw ValidationError("--count must be between 1 and 4096, got \(count)") }
        do { try samplingOptions.validate() } catch { throw ValidationError(error.describe(naming: OptionNames.flag)) }
    }

    var samplingOptions: SamplingOptions {
        SamplingOptions(temperature: temperature ?? 1, topK: topK, topP: topP, argmax: argmax)
    }

    func run() throws {
        try reportingErrors {
            let path = try resolveCheckpoint(checkpoint)
            let loaded = try Checkpoint.load(from: path)
            var primeText = prime ?? ""
            if let primeFile { primeText = try DecodedText(contentsOfFile: primeFile, options: loaded.tokenizer.options).text }
            let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
            let sampler: Sampler
            do {
                sampler = try Sampler(model: loaded.model, tokenizer: loaded.tokenizer, options: samplingOptions,
                                      prime: primeText, skipUnknown: skipUnknown, seed: seed, streams: count,
                                      threads: threads, precision: precision)
            } catch let error as SamplingError {
                // Name where the prime came from, as every other error names its file or option.
                guard case .unknownPrimeSymbols = error else { throw error }
                throw CLIError("\(primeFile.map(TextFile.displayName) ?? "--prime"): \(error.describe(naming: OptionNames.flag))", exitCode: CLIError.dataError)
            }
            // Only now: a refused prime is then the one line on stderr.
            if self.seed == nil && !argmax { printDiagnostic("seed \(seed) (pass --seed \(seed) to repeat this sample)", kind: "note") }
            if !sampler.droppedPrimeSymbols.isEmpty {
                printDiagnostic("left out \(sampler.droppedPrimeSymbols.count) prime symbol(s) the model never saw", kind: "note")
            }
            if json {
                var texts = [String](repeating: "", count: count)
                sampler.generate(length: length, stop: stop) { stream, symbol in texts[stream] += symbol }
                try JSONOutput.print(SampleReport(
                    samples: texts, seed: seed, checkpoint: path, precision: precision.rawValue, length: length, count: count,
                    prime: primeText, temperature: argmax ? nil : samplingOptions.temperature, topK: topK, topP: topP,
                    argmax: argmax, stop: stop))
                return
            }
            var output = StreamingOutput(buffered: buffered)
            var later = [String](repeating: "", count: count)
            let echo = noEcho ? "" : primeText
            output.write(echo)
            sampler.generate(length: length, stop: stop) { stream, symbol in
                // The first sample streams as it is made; the others are printed when all are done.
                if stream == 0 { output.write(symbol) } else { later[stream] += symbol }
            }
            for text in later.dropFirst() { output.write((separator ?? "\n\n") + echo + text) }
            output.write("\n")
            output.flush()
        }
    }
}

/// `charnn sample --json`: the texts, the seed used and the settings that made them (a setting
/// not given as `null`).
private struct SampleReport: Encodable {
    var samples: [String]
    var seed: UInt64
    var checkpoint: String
    var precision: String
    var length: Int
    var count: Int
    var prime: String
    @Nullable var temperature: Double?
    @Nullable var topK: Int?
    @Nullable var topP: Double?
    var argmax: Bool
    @Nullable var stop: String?
}

/// The checkpoint to use: the one named, the newest best.safetensors under ./checkpoints, or
/// the pretrained Shakespeare model that ships with charnn.
func resolveCheckpoint(_ named: String?) throws -> String {
    if let named { return named }
    if let found = CheckpointDiscovery.mostRecentBest() {
        printDiagnostic("using \(found)", kind: "note")
        return found
    }
    if let pretrained = CheckpointDiscovery.pretrained() {
        printDiagnostic("no model of yours under ./checkpoints; using the pretrained \(pretrained)", kind: "note")
        return pretrained
    }
    throw CLIError("no checkpoint found under ./checkpoints; train one with `charnn train your-text.txt`, or pass --checkpoint PATH",
                   exitCode: CLIError.noInput)
}

/// Standard output for generated text. On a terminal every write goes out at once, so text
/// appears symbol by symbol. Into a pipe or file it goes out at each line end and whenever 100 ms
/// have passed since the last write, so a reader sees it as it is made; with `buffered`, only in
/// 64 KiB blocks (and at ``flush()``).
struct StreamingOutput {
    private let interactive = isatty(STDOUT_FILENO) != 0
    private let buffered: Bool
    private var buffer: [UInt8] = []
    private var lastFlush = ContinuousClock.now

    init(buffered: Bool) { self.buffered = buffered }

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if interactive || buffer.count >= 1 << 16 {
            flush()
        } else if !buffered && (text.utf8.contains(UInt8(ascii: "\n")) || ContinuousClock.now - lastFlush >= .milliseconds(100)) {
            flush()
        }
    }

    mutating func flush() {
        lastFlush = ContinuousClock.now
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

// Batch-1 sampling speed: symbols per second for randomly initialized models of the issue's
// sizes (speed does not depend on what the weights learned). Alternates the configurations and
// reports the median of several rounds, since this machine is shared and noisy.
//
//   swift build -c release && .build/release/sampling-throughput [--rounds 5] [--symbols 20000]
@_spi(Internals) import CharNN
import Foundation

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else { return fallback }
    return v
}
let rounds = option("--rounds", 5)
let symbols = option("--symbols", 20000)

let vocabulary = try Vocabulary(symbols: (0..<65).map { String(UnicodeScalar(UInt8(48 + $0))) }, counts: Array(repeating: 1, count: 65), unknownID: nil)
let tokenizer = Tokenizer(options: TextOptions(), vocabulary: vocabulary)
let configs = [("2x128", 128), ("2x512", 512)]
var rates: [String: [Double]] = [:]
for _ in 0..<rounds {
    for (name, hidden) in configs {
        let model = try CharModel(config: ModelConfig(vocabularySize: 65, embeddingSize: 64, hiddenSize: hidden, layers: 2), seed: 1)
        // The thread count `charnn sample` chooses, unless THREADS overrides it.
        OpenBLASRuntime.setThreads(Int(ProcessInfo.processInfo.environment["THREADS"] ?? "") ?? InferenceStep.recommendedThreads(for: model.config))
        let sampler = try Sampler(model: model, tokenizer: tokenizer, options: SamplingOptions(temperature: 0.8), seed: 1)
        _ = sampler.generate(length: 500) { _, _ in }  // warm-up
        let clock = ContinuousClock()
        let start = clock.now
        var produced = 0
        sampler.generate(length: symbols) { _, _ in produced += 1 }
        let seconds = Double((clock.now - start).components.attoseconds) * 1e-18 + Double((clock.now - start).components.seconds)
        rates[name, default: []].append(Double(produced) / seconds)
    }
}
print("batch-1 sampling, \(rounds) rounds of \(symbols) symbols, OpenBLAS \(OpenBLASRuntime.coreName), kernels \(Activations.variant)")
for (name, _) in configs {
    let sorted = rates[name]!.sorted()
    print(String(format: "%@: median %.0f symbols/s (min %.0f, max %.0f)", name, sorted[sorted.count / 2], sorted.first!, sorted.last!))
}

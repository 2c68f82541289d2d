import Benchmark
import BenchmarkCorpora
@_spi(Internals) import CharNN

/// Tokenizer throughput: `Tokenizer.build` (validate, NFC, cut, count, store ids) on English
/// and on mixed-script text, per symbol unit. "MB/s" is input megabytes (10^6 bytes) per
/// second of one build.
let benchmarks: @Sendable () -> Void = {
    let megabytesPerSecond = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .peakMemoryResident, megabytesPerSecond],
        warmupIterations: 2,
        maxDuration: .seconds(5),
        maxIterations: 40
    )
    let corpora: [(name: String, load: @Sendable () throws -> [UInt8])] = [
        ("English", { try BenchmarkCorpora.english() }),
        ("mixed", { BenchmarkCorpora.mixedScript() }),
    ]
    for corpus in corpora {
        for unit in SymbolUnit.allCases {
            Benchmark("TextThroughput \(corpus.name) \(unit) nfc", configuration: configuration) { benchmark in
                let bytes = try corpus.load()
                let options = TextOptions(unit: unit, normalization: .nfc)
                benchmark.startMeasurement()
                let start = ContinuousClock.now
                let result = try Tokenizer.build(bytes: bytes, options: options)
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                blackHole(result)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                benchmark.measurement(megabytesPerSecond, Int((Double(bytes.count) / 1e6 / seconds).rounded()))
            }
        }
    }
}

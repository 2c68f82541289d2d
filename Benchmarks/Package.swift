// swift-tools-version: 6.1
// Benchmarks for charnn, a package of their own so that the root package's `swift build` and
// `swift test` never build them (nor fetch the benchmark framework).
//
//   cd Benchmarks
//   swift package benchmark --target TextThroughput          # ordo-one/package-benchmark
//   swift build -c release && .build/release/text-throughput  # plain MB/s table
import PackageDescription

let package = Package(
    name: "CharNNBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "charnn", path: ".."),
        // Only the MallocInterposer trait: the default traits also enable RuntimeInterposer,
        // which pulls in ordo-one/swift-runtime-interposer (Linux, Swift 6.3), a package this
        // machine's offline mirror does not have, so resolution would fail.
        .package(url: "https://github.com/ordo-one/package-benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The corpora both benchmark front ends measure.
        .target(
            name: "BenchmarkCorpora",
            dependencies: [.product(name: "CharNN", package: "charnn")]
        ),
        // `swift package benchmark`: tokenizer throughput with statistics across runs.
        .executableTarget(
            name: "TextThroughput",
            dependencies: [
                "BenchmarkCorpora",
                .product(name: "CharNN", package: "charnn"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/TextThroughput",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // `swift package benchmark --target Kernels`: GEMM, LSTM step, softmax cross-entropy, sampler step.
        .executableTarget(
            name: "Kernels",
            dependencies: [
                .product(name: "CharNN", package: "charnn"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/Kernels",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // A plain executable: MB/s table via ContinuousClock, and `--encode FILE` to measure
        // peak memory of encoding a large corpus under /usr/bin/time.
        .executableTarget(
            name: "text-throughput",
            dependencies: ["BenchmarkCorpora", .product(name: "CharNN", package: "charnn")],
            path: "Sources/TextThroughputReport"
        ),
        // Batch-1 sampling speed of 2×128 and 2×512 models (symbols/s).
        .executableTarget(
            name: "sampling-throughput",
            dependencies: [.product(name: "CharNN", package: "charnn")],
            path: "Sources/SamplingThroughputReport"
        ),
    ],
    swiftLanguageModes: [.v6]
)

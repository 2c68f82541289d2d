// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "charnn",
    products: [
        .library(name: "CharNN", targets: ["CharNN"]),
        .executable(name: "charnn", targets: ["CharNNCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        // Only for `charnn serve` (the CharNNServer target); the CharNN library does not use them.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Only for `swift package generate-documentation` (scripts/check-docs): a command plugin,
        // which no target or product depends on.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Debian's OpenBLAS, through its own cblas.h (never the `blas` alternative).
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // utf8proc for NFC/NFKC and UAX #29 grapheme breaks.
        .systemLibrary(
            name: "CUTF8Proc",
            pkgConfig: "libutf8proc",
            providers: [.apt(["libutf8proc-dev"])]
        ),
        // Element-wise kernels compiled for AVX-512, AVX2 and baseline x86-64, chosen at run time
        // (see docs/simd.md): Swift has no per-function target attributes. -O2 (release's level) in
        // every configuration, so `swift test`'s debug build runs the vectorized code users get.
        // (Tools version 6.2: packages that depend on charnn accept these flags.)
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(
            name: "CharNN",
            dependencies: ["COpenBLAS", "CUTF8Proc", "CKernels"]
        ),
        // `charnn serve`: HTTP endpoints, the page and the request log over CharNN's generation
        // scheduler. Its own target, so the CharNN library product pulls in no server packages.
        .target(
            name: "CharNNServer",
            dependencies: [
                "CharNN",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "CharNNCLI",
            dependencies: [
                "CharNN",
                "CharNNServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A program that uses only the public API: train on a string, sample, score.
        .executableTarget(
            name: "QuickStart",
            dependencies: ["CharNN"],
            path: "Examples/QuickStart"
        ),
        .testTarget(
            name: "CharNNTests",
            dependencies: [
                "CharNN",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "CharNNServerTests",
            dependencies: ["CharNN", "CharNNServer"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

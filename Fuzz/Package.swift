// swift-tools-version: 6.1
// libFuzzer targets for charnn's parsers of untrusted input, a package of their own so the fuzzer
// and sanitizer flags never reach the root package's build. Run them with scripts/fuzz, which
// builds with `-sanitize=fuzzer,address` (a plain `swift build` here cannot link: libFuzzer
// supplies `main`).
//
//   FuzzCheckpoint  Checkpoint(bytes:path:) and SafeTensorsFile(bytes:): any file a user passes
//   FuzzTokenizer   the UTF-8 validator, normalizer and segmenter: any corpus, in every option mix
//   FuzzDuration    TrainingDuration(parsing:): any --time argument
import PackageDescription

// Without `-parse-as-library` a file with top-level code would need a `main`; libFuzzer has one.
let fuzzTarget: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "CharNNFuzz",
    dependencies: [
        .package(name: "charnn", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "CharNN", package: "charnn")]),
        .executableTarget(
            name: "FuzzCheckpoint",
            dependencies: ["FuzzSupport", .product(name: "CharNN", package: "charnn")],
            swiftSettings: fuzzTarget
        ),
        .executableTarget(
            name: "FuzzTokenizer",
            dependencies: ["FuzzSupport", .product(name: "CharNN", package: "charnn")],
            swiftSettings: fuzzTarget
        ),
        .executableTarget(
            name: "FuzzDuration",
            dependencies: ["FuzzSupport", .product(name: "CharNN", package: "charnn")],
            swiftSettings: fuzzTarget
        ),
    ],
    swiftLanguageModes: [.v6]
)

@_spi(Internals) import CharNN
import Testing
import Foundation

/// Files committed next to the tests, found through this source file's path so no resource
/// bundle is needed.
enum TestFiles {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }
}

/// The largest elementwise relative error |a − b| / max(|b|, 1% of max |b|) of two arrays.
///
/// A float32 result that comes out of cancellation (an element 1000× smaller than its tensor's
/// largest) cannot be more precise than float32 rounding at the tensor's scale, so elements below
/// 1% of the largest are measured against that 1%. Everything else is plainly relative.
func maxRelativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    let floor = max(0.01 * (b.map(abs).max() ?? 0), Double.leastNormalMagnitude)
    var worst = 0.0
    for (x, y) in zip(a, b) {
        worst = max(worst, abs(Double(x) - y) / max(abs(y), floor))
    }
    return worst
}

/// Converts a [B, T, …] batch-first array (PyTorch's `batch_first=True`) to charnn's time-major
/// [T, B, …] layout.
func timeMajor<E>(_ values: [E], batch: Int, steps: Int, width: Int = 1) -> [E] {
    var out = values
    for b in 0..<batch {
        for t in 0..<steps {
            for j in 0..<width { out[(t * batch + b) * width + j] = values[(b * steps + t) * width + j] }
        }
    }
    return out
}

/// Error statistics of a float32 result against a float64 reference.
struct ErrorStats: CustomStringConvertible {
    /// max |a − b|
    var maxAbsolute = 0.0
    /// max |b|
    var referenceScale = 0.0
    /// max |a − b| / max |b|: the error relative to the tensor's scale.
    var normwise: Double { referenceScale == 0 ? maxAbsolute : maxAbsolute / referenceScale }

    init(_ a: [Float], _ b: [Double]) {
        precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
        for (x, y) in zip(a, b) {
            maxAbsolute = max(maxAbsolute, abs(Double(x) - y))
            referenceScale = max(referenceScale, abs(y))
        }
    }

    var description: String { "max abs \(maxAbsolute), scale \(referenceScale), normwise \(normwise)" }
}

/// Runs `body` with the element-wise kernels on this thread switched to `variant`.
func inVariant(_ variant: String, _ body: () throws -> Void) throws {
    let ran: Void? = try Activations.withVariant(variant, body)
    try #require(ran != nil, "this CPU cannot run the \(variant) kernels")
}

/// The smallest parameter layout (vocabulary 2, embedding 1, one layer of one unit), for tests of
/// code that runs over a flat parameter buffer.
func tinyLayout() -> ParameterLayout {
    ParameterLayout(config: ModelConfig(vocabularySize: 2, embeddingSize: 1, hiddenSize: 1, layers: 1))
}

/// A fresh empty directory under the system's temporary directory.
func temporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("charnn-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A small multilingual corpus with enough structure for a tiny model to learn from.
func writeSmallCorpus(in directory: String, name: String = "corpus.txt", repeats: Int = 40) throws -> String {
    let lines = [
        "The quick brown fox jumps over the lazy dog.\n",
        "Le cœur a ses raisons que la raison ne connaît point.\n",
        "Съешь же ещё этих мягких французских булок.\n",
        "春眠不觉晓，处处闻啼鸟。\n",
        "Wer reitet so spät durch Nacht und Wind? 👩‍👩‍👧\n",
    ]
    var text = ""
    for i in 0..<repeats { text += lines[i % lines.count] }
    let path = directory + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Training options for a model small enough to train in a debug build within a second.
func tinyTrainingOptions(steps: Int) -> TrainingOptions {
    var options = TrainingOptions()
    options.layers = 2
    options.hiddenSize = 16
    options.embeddingSize = 8
    options.dropout = 0.2
    options.batch = 4
    options.sequenceLength = 8
    options.maxSteps = steps
    // Tests split one run into sessions with different --steps budgets; a cosine plan is fit to
    // each session's budget (on purpose), so they pin the constant rate.
    options.schedule = .constant
    options.evalEvery = 4
    options.saveEvery = 3
    options.validationFraction = 0.1
    options.threads = 1
    return options
}

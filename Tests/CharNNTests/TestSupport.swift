import CharNN
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
    let ran = try Activations.withVariant(variant, body)
    try #require(ran != nil, "this CPU cannot run the \(variant) kernels")
}

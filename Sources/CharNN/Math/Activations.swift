import CKernels

/// Element-wise kernels from the CKernels target, wrapped for Swift buffers.
///
/// The C side is compiled for AVX-512, AVX2 and baseline x86-64 and picks the widest this CPU runs
/// at load time, so the hot loops get wide SIMD without building a binary that needs AVX-512.
@_spi(Internals) public enum Activations {
    /// The kernel variant in use: "avx512", "avx2" or "baseline".
    public static var variant: String { String(cString: ck_variant_name()) }

    /// y = sigmoid(x), element-wise.
    public static func sigmoid(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count >= x.count)
        ck_sigmoid(x.baseAddress, y.baseAddress, x.count)
    }

    /// y = tanh(x), element-wise.
    public static func tanh(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count >= x.count)
        ck_tanh(x.baseAddress, y.baseAddress, x.count)
    }

    /// dx = dy · y · (1 − y), the sigmoid derivative expressed through its output y.
    public static func sigmoidBackward(
        output y: UnsafeBufferPointer<Float>, outputGradient dy: UnsafeBufferPointer<Float>,
        into dx: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(dy.count == y.count && dx.count >= y.count)
        ck_sigmoid_backward(y.baseAddress, dy.baseAddress, dx.baseAddress, y.count)
    }

    /// dx = dy · (1 − y²), the tanh derivative expressed through its output y.
    public static func tanhBackward(
        output y: UnsafeBufferPointer<Float>, outputGradient dy: UnsafeBufferPointer<Float>,
        into dx: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(dy.count == y.count && dx.count >= y.count)
        ck_tanh_backward(y.baseAddress, dy.baseAddress, dx.baseAddress, y.count)
    }

    /// Row-wise softmax of a [rows, cols] matrix (max-subtracted, so ±1e4 logits stay finite).
    public static func softmax(
        _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>, rows: Int, cols: Int
    ) {
        precondition(x.count == rows * cols && y.count >= x.count)
        precondition(!overlap(x, y), "softmax: x and y must not overlap")
        ck_softmax(x.baseAddress, y.baseAddress, rows, cols)
    }

    /// Row-wise log-softmax of a [rows, cols] matrix through log-sum-exp.
    public static func logSoftmax(
        _ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>, rows: Int, cols: Int
    ) {
        precondition(x.count == rows * cols && y.count >= x.count)
        precondition(!overlap(x, y), "logSoftmax: x and y must not overlap")
        ck_log_softmax(x.baseAddress, y.baseAddress, rows, cols)
    }

    /// Softmax cross-entropy over [rows, cols] logits with one target class per row.
    ///
    /// Writes each row's loss (−log p(target)) into `rowLosses` and
    /// `gradientScale · (softmax − onehot(target))` into `gradient`, which may be the logits'
    /// own storage. Returns the sum of the row losses, accumulated in Double.
    public static func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafeBufferPointer<Int32>,
        gradient: UnsafeMutablePointer<Float>, rowLosses: UnsafeMutableBufferPointer<Float>,
        cols: Int, gradientScale: Float
    ) -> Double {
        precondition(rowLosses.count >= targets.count)
        for t in targets { precondition(t >= 0 && Int(t) < cols, "softmaxCrossEntropy: target out of range") }
        return ck_softmax_xent(
            logits, targets.baseAddress, gradient, rowLosses.baseAddress, targets.count, cols, gradientScale)
    }
}

/// True when two buffers share any element.
private func overlap(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeMutableBufferPointer<Float>) -> Bool {
    guard let pa = a.baseAddress, let pb = b.baseAddress, a.count > 0, b.count > 0 else { return false }
    return pa < UnsafePointer(pb) + b.count && UnsafePointer(pb) < pa + a.count
}

extension Activations {
    /// Runs `body` with every element-wise kernel on the calling thread switched to the named
    /// variant ("avx512", "avx2", "baseline"); returns nil if this CPU cannot run it. For tests
    /// and benchmarks that compare variants; other threads keep the widest variant.
    public static func withVariant<R>(_ name: String, _ body: () throws -> R) rethrows -> R? {
        guard ck_force_variant(name) != 0 else { return nil }
        defer { ck_force_variant(nil) }
        return try body()
    }

    /// The variants this process may run, widest first: those of the CPU, or with
    /// `CHARNN_SIMD` set, those no wider than the one it names (as on a CPU that has only that).
    public static var availableVariants: [String] {
        switch ck_simd_level() {
        case 1: ["avx512", "avx2", "baseline"]
        case 2: ["avx2", "baseline"]
        default: ["baseline"]
        }
    }

    /// What became of the environment variable `CHARNN_SIMD`, read once before `main`.
    public enum VariantRequest: Equatable, Sendable {
        /// Unset or empty: the widest variant the CPU runs is in use.
        case none
        /// A variant the CPU runs, which is in use (and governs the packed GEMM, the bf16 panels
        /// and the CRC-32C instruction too).
        case forced(String)
        /// A variant this CPU cannot run; the widest it runs is in use.
        case unsupported(String)
        /// Not a variant's name; the widest variant the CPU runs is in use.
        case unknown(String)
    }

    /// The names `CHARNN_SIMD` accepts, narrowest first.
    public static let variantNames = ["baseline", "avx2", "avx512"]

    /// See ``VariantRequest``.
    public static var request: VariantRequest {
        let value = String(cString: ck_simd_requested())
        switch Int(ck_simd_request()) {
        case Int(CK_SIMD_FORCED): return .forced(value)
        case Int(CK_SIMD_UNSUPPORTED): return .unsupported(value)
        case Int(CK_SIMD_UNKNOWN): return .unknown(value)
        default: return .none
        }
    }

    /// One line for the user when `CHARNN_SIMD` could not be honoured, else nil. The C kernels
    /// never print; the `charnn` executable prints this as a warning.
    public static var requestWarning: String? {
        let inUse = String(cString: ck_variant_name())
        switch request {
        case .none, .forced: return nil
        case .unsupported(let name):
            return "CHARNN_SIMD=\(name): this CPU cannot run the \(name) kernels; using \(inUse)"
        case .unknown(let name):
            return "CHARNN_SIMD=\(name) is not one of \(variantNames.joined(separator: ", ")); using \(inUse)"
        }
    }
}

import COpenBLAS

/// Typed wrappers over OpenBLAS's `cblas_sgemm` and `cblas_sgemv` for dense row-major matrices.
///
/// Every matrix is contiguous and row-major, so leading dimensions follow from the shapes; callers
/// pass buffers plus the logical shape of the product and never think about `lda`.
@_spi(Internals) public enum BLAS {
    /// C[m, n] = alpha · op(A) · op(B) + beta · C, where op(A) is [m, k] and op(B) is [k, n].
    ///
    /// `a` is stored as [m, k] (or [k, m] when `transposeA`), `b` as [k, n] (or [n, k] when
    /// `transposeB`), `c` as [m, n].
    @inlinable
    public static func gemm(
        m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, transposeA: Bool = false,
        _ b: UnsafePointer<Float>, transposeB: Bool = false,
        into c: UnsafeMutablePointer<Float>,
        alpha: Float = 1, beta: Float = 0
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative dimension")
        if m == 0 || n == 0 { return }
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(max(lda, 1)), b, blasint(max(ldb, 1)),
            beta, c, blasint(max(n, 1)))
    }

    /// y = alpha · op(A) · x + beta · y, with A stored as [rows, cols].
    ///
    /// Without `transpose`, x has `cols` elements and y has `rows`; with it, the reverse.
    /// At batch 1 this is the call to use: OpenBLAS 0.3.21's sgemm with m = 1 is ~3× slower.
    @inlinable
    public static func gemv(
        rows: Int, cols: Int,
        _ a: UnsafePointer<Float>, transpose: Bool = false,
        _ x: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>,
        alpha: Float = 1, beta: Float = 0
    ) {
        precondition(rows >= 0 && cols >= 0, "gemv: negative dimension")
        if rows == 0 || cols == 0 { return }
        cblas_sgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
            blasint(rows), blasint(cols), alpha, a, blasint(cols), x, 1, beta, y, 1)
    }
}

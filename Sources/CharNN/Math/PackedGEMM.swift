import CKernels

/// C[m, n] += A[m, k] · B with B packed once and reused for many products, for the LSTM's
/// recurrent step: the weights stay fixed over the T steps of a batch, but OpenBLAS would repack
/// them on every one of the 2·T calls (see Sources/CKernels/recurrent_gemm.c).
@_spi(Internals) public enum PackedGEMM {
    /// True when the process's SIMD variant has a packed kernel that beats OpenBLAS: AVX-512 or
    /// AVX2 + FMA (`CHARNN_SIMD=baseline` turns it off). Otherwise callers use `BLAS.gemm` (and
    /// sampling fp32 weights, not bf16 panels); ``multiplyAdd(m:n:k:_:packed:into:threads:)``
    /// still works then, in portable C. The kernel that runs follows the calling thread's variant
    /// (`Activations.withVariant`), so tests reach every variant on one host.
    public static let isSupported = ck_packed_gemm_supported() != 0

    /// As ``isSupported``, for the calling thread's variant: false on a thread that
    /// `Activations.withVariant("baseline")` narrowed, which then takes OpenBLAS as a baseline CPU
    /// would (the portable panel loop is for tests of the kernel itself, not for the model).
    public static var isFastOnThisThread: Bool { ck_packed_gemm_fast_on_this_thread() != 0 }

    /// Floats a packed [k, n] operand occupies (n rounded up to the kernel's 32-column panels).
    public static func packedCount(k: Int, n: Int) -> Int { ck_packed_b_floats(k, n) }

    /// Packs B [k, n], whose element (i, j) is `b[i * rowStride + j * columnStride]`, so a
    /// row-major matrix packs as itself (rowStride n, columnStride 1) or as its transpose
    /// (rowStride 1, columnStride k) without a copy.
    public static func pack(_ b: UnsafePointer<Float>, k: Int, n: Int, rowStride: Int, columnStride: Int,
                            into packed: UnsafeMutablePointer<Float>) {
        ck_pack_b(b, k, n, rowStride, columnStride, packed)
    }

    /// c[m, n] += a[m, k] · B, on one thread or split in two by columns.
    public static func multiplyAdd(m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                                   into c: UnsafeMutablePointer<Float>, threads: Int) {
        ck_packed_gemm(a, m, k, packed, c, n, Int32(min(max(threads, 1), 2)))
    }
}

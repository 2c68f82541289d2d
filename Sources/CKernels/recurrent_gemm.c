// The recurrent step's matrix product, C[M, N] += A[M, K] · B[K, N], with B packed once per
// training step. OpenBLAS repacks the whole weight matrix on every call; at the LSTM's per-step
// shapes (M = batch ≈ 50, N·K = 4H·H) that copy costs as much as a third of the product. Here B
// is packed into panels of 32 columns, K-major, so a micro-kernel streams each panel once per
// block of rows of A: 6×32 with 12 zmm accumulators on AVX-512, 3×32 with 12 ymm accumulators on
// AVX2 + FMA, one source of packed panels for both. The caller uses it where
// ck_packed_gemm_supported() (either of those, and CHARNN_SIMD not narrower) and OpenBLAS elsewhere;
// there a portable C loop over the same panels still gives the product, for tests and for CPUs
// that are not x86-64.
#include "ckernels.h"
#include "kernels_variants.h"
#include "panel_store.h"
#include <stdlib.h>
#include <string.h>

#define MR 6
#define MR_AVX2 3

size_t ck_packed_b_floats(size_t k, size_t n) { return k * ((n + NR - 1) / NR) * NR; }

// packed[panel][kk][0..<32] = B[kk][panel*32 + j], zero-padded past N.
// B is given as element (kk, j) at b[kk * row_stride + j * col_stride], so both W (backward)
// and Wᵀ (forward) pack from the same row-major weight matrix without a transposed copy.
// Full panels take one of two loops without the bounds check, each reading B in address order:
// row-major B (col_stride 1) copies 32 contiguous floats per row, and Bᵀ (row_stride 1) walks each
// of the panel's 32 source rows front to back. Training packs W_hh twice per layer and pass.
void ck_pack_b(const float *b, size_t k, size_t n, size_t row_stride, size_t col_stride, float *packed) {
    size_t panels = (n + NR - 1) / NR;
    for (size_t p = 0; p < panels; p++) {
        float *dst = packed + p * k * NR;
        const float *src = b + p * NR * col_stride;
        if ((p + 1) * NR <= n && col_stride == 1) {
            for (size_t kk = 0; kk < k; kk++) memcpy(dst + kk * NR, src + kk * row_stride, NR * sizeof(float));
        } else if ((p + 1) * NR <= n && row_stride == 1) {
            for (size_t j = 0; j < NR; j++) {
                const float *column = src + j * col_stride;
                for (size_t kk = 0; kk < k; kk++) dst[kk * NR + j] = column[kk];
            }
        } else {
            for (size_t kk = 0; kk < k; kk++) {
                for (size_t j = 0; j < NR; j++) {
                    size_t col = p * NR + j;
                    dst[kk * NR + j] = col < n ? b[kk * row_stride + col * col_stride] : 0.0f;
                }
            }
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void ck_kernel_6x32(const float *a, size_t lda, const float *bp, size_t k,
                                                             float *c, size_t ldc, size_t rows, size_t cols) {
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (size_t kk = 0; kk < k; kk++) {
        __m512 b0 = _mm512_loadu_ps(bp + kk * NR), b1 = _mm512_loadu_ps(bp + kk * NR + 16);
        for (int r = 0; r < MR; r++) {
            if ((size_t)r < rows) {
                __m512 av = _mm512_set1_ps(a[r * lda + kk]);
                acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
            }
        }
    }
    for (size_t r = 0; r < rows; r++) ck_add_store_row(c + r * ldc, acc[r][0], acc[r][1], cols);
}

// One row of A (m = 1, as in sampling): the 6×32 kernel would leave a single chain of dependent
// FMAs per 16 columns, bound by FMA latency rather than by reading the panel. Four k-interleaved
// partial sums per 16 columns keep eight chains in flight; they are added at the end.
__attribute__((target("avx512f"))) static void ck_kernel_1x32(const float *a, const float *bp, size_t k, float *c,
                                                             size_t cols) {
    __m512 acc[4][2];
    for (int u = 0; u < 4; u++) acc[u][0] = acc[u][1] = _mm512_setzero_ps();
    size_t kk = 0;
    for (; kk + 4 <= k; kk += 4) {
        for (int u = 0; u < 4; u++) {
            __m512 av = _mm512_set1_ps(a[kk + u]);
            acc[u][0] = _mm512_fmadd_ps(av, _mm512_loadu_ps(bp + (kk + u) * NR), acc[u][0]);
            acc[u][1] = _mm512_fmadd_ps(av, _mm512_loadu_ps(bp + (kk + u) * NR + 16), acc[u][1]);
        }
    }
    for (; kk < k; kk++) {
        __m512 av = _mm512_set1_ps(a[kk]);
        acc[0][0] = _mm512_fmadd_ps(av, _mm512_loadu_ps(bp + kk * NR), acc[0][0]);
        acc[0][1] = _mm512_fmadd_ps(av, _mm512_loadu_ps(bp + kk * NR + 16), acc[0][1]);
    }
    __m512 s0 = _mm512_add_ps(_mm512_add_ps(acc[0][0], acc[1][0]), _mm512_add_ps(acc[2][0], acc[3][0]));
    __m512 s1 = _mm512_add_ps(_mm512_add_ps(acc[0][1], acc[1][1]), _mm512_add_ps(acc[2][1], acc[3][1]));
    ck_add_store_row(c, s0, s1, cols);
}

// Panels [p0, p1) of the product.
__attribute__((target("avx512f"))) static void ck_gemm_panels_avx512(const float *a, size_t m, size_t k,
                                                                    const float *packed, float *c, size_t n,
                                                                    size_t p0, size_t p1) {
    if (m == 1) {
        for (size_t p = p0; p < p1; p++) {
            size_t cols = n - p * NR < NR ? n - p * NR : NR;
            ck_kernel_1x32(a, packed + p * k * NR, k, c + p * NR, cols);
        }
        return;
    }
    for (size_t p = p0; p < p1; p++) {
        const float *bp = packed + p * k * NR;
        size_t cols = n - p * NR < NR ? n - p * NR : NR;
        for (size_t r = 0; r < m; r += MR) {
            size_t rows = m - r < MR ? m - r : MR;
            ck_kernel_6x32(a + r * k, k, bp, k, c + r * n + p * NR, n, rows, cols);
        }
    }
}

// AVX2 + FMA over the same panels: R ≤ 3 rows × the whole 32-column panel, 12 ymm accumulators.
// Each k reads one contiguous 128-byte row of the panel (4 loads) for 12 FMAs and 3 broadcasts of
// A. An earlier 6 × 16 tile over each half of a panel (2 loads and 6 broadcasts per 12 FMAs, every
// other cache line of the panel per pass) ran 0.65–0.9× as fast at training's shapes on Zen 3
// (m = 25: n = 2048, k = 512 and n = 512, k = 2048; hot caches, alternating rounds). R is a constant
// in every call (ck_avx2_block's switch), so each row count compiles to its own loop.
// cols is how many of the panel's 32 columns exist.
__attribute__((target("avx2,fma"), always_inline)) static inline void ck_kernel_rx32_avx2(
    const int R, const float *a, size_t lda, const float *bp, size_t k, float *c, size_t ldc, ptrdiff_t cols) {
    __m256 acc[MR_AVX2][4];
    for (int r = 0; r < R; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = _mm256_setzero_ps();
    for (size_t kk = 0; kk < k; kk++) {
        for (int q = 0; q < 4; q++) {
            __m256 b = _mm256_loadu_ps(bp + kk * NR + 8 * q);
            for (int r = 0; r < R; r++)
                acc[r][q] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + r * lda + kk), b, acc[r][q]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int q = 0; q < 4; q++) ck_add_store8(c + r * ldc + 8 * q, acc[r][q], cols - 8 * q);
}

__attribute__((target("avx2,fma"))) static void ck_avx2_block(size_t rows, const float *a, size_t lda,
                                                             const float *bp, size_t k, float *c, size_t ldc,
                                                             ptrdiff_t cols) {
    switch (rows) {
    case 3: ck_kernel_rx32_avx2(3, a, lda, bp, k, c, ldc, cols); break;
    case 2: ck_kernel_rx32_avx2(2, a, lda, bp, k, c, ldc, cols); break;
    default: ck_kernel_rx32_avx2(1, a, lda, bp, k, c, ldc, cols); break;  // not reached: m = 1 has its own kernel
    }
}

// m = 1 on AVX2: a panel row is four ymm; two k-interleaved partial sums give eight FMA chains,
// what two FMA pipes of 4-cycle latency need, and leave registers for the loads.
__attribute__((target("avx2,fma"))) static void ck_kernel_1x32_avx2(const float *a, const float *bp, size_t k,
                                                                   float *c, size_t cols) {
    __m256 acc[2][4];
    for (int u = 0; u < 2; u++)
        for (int q = 0; q < 4; q++) acc[u][q] = _mm256_setzero_ps();
    size_t kk = 0;
    for (; kk + 2 <= k; kk += 2) {
        for (int u = 0; u < 2; u++) {
            __m256 av = _mm256_broadcast_ss(a + kk + u);
            for (int q = 0; q < 4; q++)
                acc[u][q] = _mm256_fmadd_ps(av, _mm256_loadu_ps(bp + (kk + u) * NR + 8 * q), acc[u][q]);
        }
    }
    if (kk < k) {
        __m256 av = _mm256_broadcast_ss(a + kk);
        for (int q = 0; q < 4; q++) acc[0][q] = _mm256_fmadd_ps(av, _mm256_loadu_ps(bp + kk * NR + 8 * q), acc[0][q]);
    }
    for (int q = 0; q < 4; q++) ck_add_store8(c + 8 * q, _mm256_add_ps(acc[0][q], acc[1][q]), (ptrdiff_t)cols - 8 * q);
}

// Panels [p0, p1) with AVX2. Rows go in ⌈m/3⌉ blocks of nearly equal size (25 = 7 × 3 + 2 × 2)
// rather than 3, 3, …, remainder: a block of one row keeps only four FMA chains busy, latency-bound.
__attribute__((target("avx2,fma"))) static void ck_gemm_panels_avx2(const float *a, size_t m, size_t k,
                                                                   const float *packed, float *c, size_t n,
                                                                   size_t p0, size_t p1) {
    if (m == 1) {
        for (size_t p = p0; p < p1; p++) {
            size_t cols = n - p * NR < NR ? n - p * NR : NR;
            ck_kernel_1x32_avx2(a, packed + p * k * NR, k, c + p * NR, cols);
        }
        return;
    }
    size_t blocks = (m + MR_AVX2 - 1) / MR_AVX2, base = m / blocks, larger = m % blocks;
    for (size_t p = p0; p < p1; p++) {
        const float *bp = packed + p * k * NR;
        ptrdiff_t cols = (ptrdiff_t)(n - p * NR < NR ? n - p * NR : NR);
        size_t r = 0;
        for (size_t b = 0; b < blocks; b++) {
            size_t rows = base + (b < larger);
            ck_avx2_block(rows, a + r * k, k, bp, k, c + r * n + p * NR, n, cols);
            r += rows;
        }
    }
}

#endif

// Panels [p0, p1) in portable C: each row of A against one panel, 32 column sums.
//                            a: [m, k], packed: panels of [k, 32], c: [m, n]
static void ck_gemm_panels_portable(const float *a, size_t m, size_t k, const float *packed, float *c, size_t n,
                                    size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; p++) {
        const float *bp = packed + p * k * NR;
        size_t cols = n - p * NR < NR ? n - p * NR : NR;
        for (size_t r = 0; r < m; r++) {
            float acc[NR] = {0};
            for (size_t kk = 0; kk < k; kk++) {
                float av = a[r * k + kk];
                for (size_t j = 0; j < NR; j++) acc[j] += av * bp[kk * NR + j];
            }
            for (size_t j = 0; j < cols; j++) c[r * n + p * NR + j] += acc[j];
        }
    }
}

// Measured against OpenBLAS 0.3.21 at training's per-step shapes with scripts/packed-gemm-bench.c
// (one thread, packing charged at 1/T per step): on Zen 4 (AVX-512) the packed kernel ran 113
// GFLOP/s to OpenBLAS's 86 at 50×512·512×2048. On Zen 3 (AVX2, OpenBLAS's Zen kernels), at the
// half-batch m = 25 that each core runs in training, the 3×32 tile was 1.4–2.1× OpenBLAS forward
// and 1.1–1.4× backward for H = 128…512 (m = 50: 1.07–1.24×); at m = 1 the fp32 panels ran
// 1.04–1.32× sgemv and the bf16 panels 1.9–2.7×. docs/simd.md has the table. The baseline
// variant's portable loop is far slower than OpenBLAS.
int ck_panel_kernels_fast(int level) { return level == 1 || level == 2; }

int ck_packed_gemm_supported(void) { return ck_panel_kernels_fast(ck_simd_level()); }

int ck_packed_gemm_fast_on_this_thread(void) { return ck_panel_kernels_fast(ck_active_simd_level()); }

typedef void (*ck_panels_fn)(const float *a, size_t m, size_t k, const float *packed, float *c, size_t n, size_t p0,
                             size_t p1);

// The panel loop of the calling thread's variant (ck_force_variant may narrow it per thread). It is
// chosen once per product, on the caller, so the second thread runs the same kernel.
static ck_panels_fn ck_panels_for_caller(void) {
#if defined(__x86_64__)
    switch (ck_active_simd_level()) {
    case 1: return ck_gemm_panels_avx512;
    case 2: return ck_gemm_panels_avx2;
    default: break;
    }
#endif
    return ck_gemm_panels_portable;
}

typedef struct {
    ck_panels_fn panels_fn;
    const float *a, *packed;
    float *c;
    size_t m, k, n, split, panels;
} ck_gemm_task;

static void ck_gemm_part(void *context, int part) {
    ck_gemm_task *t = context;
    if (part == 0) t->panels_fn(t->a, t->m, t->k, t->packed, t->c, t->n, 0, t->split);
    else t->panels_fn(t->a, t->m, t->k, t->packed, t->c, t->n, t->split, t->panels);
}

void ck_packed_gemm(const float *a, size_t m, size_t k, const float *packed, float *c, size_t n, int threads) {
    size_t panels = (n + NR - 1) / NR;
    ck_panels_fn panels_fn = ck_panels_for_caller();
    if (threads < 2 || panels < 2) {
        panels_fn(a, m, k, packed, c, n, 0, panels);
        return;
    }
    ck_gemm_task task = {panels_fn, a, packed, c, m, k, n, panels / 2, panels};
    ck_run_in_two(ck_gemm_part, &task, threads);
}

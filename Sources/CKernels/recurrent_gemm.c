// The recurrent step's matrix product, C[M, N] += A[M, K] · B[K, N], with B packed once per
// training step. OpenBLAS repacks the whole weight matrix on every call; at the LSTM's per-step
// shapes (M = batch ≈ 50, N·K = 4H·H) that copy costs as much as a third of the product. Here B
// is packed into panels of 32 columns, K-major, so the micro-kernel streams each panel once per
// 6-row block of A with 12 zmm accumulators. The caller uses it where ck_packed_gemm_supported()
// (AVX-512, and CHARNN_SIMD not narrower) and OpenBLAS elsewhere; there a portable C loop over the
// same panels still gives the product, for tests and for CPUs that are not x86-64.
#include "ckernels.h"
#include "panel_store.h"
#include <stdlib.h>
#include <string.h>

#define MR 6

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
__attribute__((target("avx512f"))) static void ck_gemm_panels(const float *a, size_t m, size_t k, const float *packed,
                                                             float *c, size_t n, size_t p0, size_t p1) {
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

int ck_packed_gemm_supported(void) { return ck_simd_level() == 1; }

static void ck_panels(const float *a, size_t m, size_t k, const float *packed, float *c, size_t n, size_t p0,
                      size_t p1) {
#if defined(__x86_64__)
    if (ck_packed_gemm_supported()) {
        ck_gemm_panels(a, m, k, packed, c, n, p0, p1);
        return;
    }
#endif
    ck_gemm_panels_portable(a, m, k, packed, c, n, p0, p1);
}

typedef struct {
    const float *a, *packed;
    float *c;
    size_t m, k, n, split, panels;
} ck_gemm_task;

static void ck_gemm_part(void *context, int part) {
    ck_gemm_task *t = context;
    if (part == 0) ck_panels(t->a, t->m, t->k, t->packed, t->c, t->n, 0, t->split);
    else ck_panels(t->a, t->m, t->k, t->packed, t->c, t->n, t->split, t->panels);
}

void ck_packed_gemm(const float *a, size_t m, size_t k, const float *packed, float *c, size_t n, int threads) {
    size_t panels = (n + NR - 1) / NR;
    if (threads < 2 || panels < 2) {
        ck_panels(a, m, k, packed, c, n, 0, panels);
        return;
    }
    ck_gemm_task task = {a, packed, c, m, k, n, panels / 2, panels};
    ck_run_in_two(ck_gemm_part, &task, threads);
}

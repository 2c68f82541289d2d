// Batch-1 sampling's products with the weights stored as bfloat16: y[n] += x[k] · B[k, n].
//
// At H = 512 a sampled symbol reads 13 MB of fp32 weights, more than the cores' L2 caches hold,
// so sampling runs at the speed of L3. Halving the bytes is the lever; the arithmetic stays fp32:
// each bf16 weight widens to fp32 exactly (a 16-bit shift), x is never rounded, and the sums are
// fp32, so the only change from fp32 sampling is the rounding of each weight to 8 significant bits.
//
// Layout: panels of 32 columns as in recurrent_gemm.c, but rows in pairs (2q, 2q + 1), each
// column's two weights side by side in one 32-bit lane: panel[q][j] = (B[2q][j], B[2q+1][j]).
// One 512-bit load then holds 16 columns of two rows (a 256-bit load 8). The caller uses bf16 where
// ck_packed_gemm_supported() (AVX-512 or AVX2) and keeps fp32 elsewhere; there a portable C loop
// over the same panels still gives the product, for tests and for CPUs that are not x86-64.
#include "ckernels.h"
#include "kernels_variants.h"
#include "panel_store.h"
#include <string.h>

size_t ck_packed_bf16_count(size_t k, size_t n) { return ((k + 1) / 2) * 2 * ((n + NR - 1) / NR) * NR; }

// fp32 → bf16, rounding to nearest even; NaN stays NaN (quiet).
uint16_t ck_bf16_from_float(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu)) return (uint16_t)((bits >> 16) | 0x40);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

float ck_float_from_bf16(uint16_t value) {
    uint32_t bits = (uint32_t)value << 16;
    float result;
    memcpy(&result, &bits, 4);
    return result;
}

void ck_pack_b_bf16(const float *b, size_t k, size_t n, size_t row_stride, size_t col_stride, uint16_t *packed) {
    size_t panels = (n + NR - 1) / NR, pairs = (k + 1) / 2;
    for (size_t p = 0; p < panels; p++) {
        uint16_t *dst = packed + p * pairs * 2 * NR;
        for (size_t q = 0; q < pairs; q++) {
            for (size_t j = 0; j < NR; j++) {
                size_t col = p * NR + j;
                for (size_t t = 0; t < 2; t++) {
                    size_t row = 2 * q + t;
                    float v = col < n && row < k ? b[row * row_stride + col * col_stride] : 0.0f;
                    dst[(q * NR + j) * 2 + t] = ck_bf16_from_float(v);
                }
            }
        }
    }
}

#if defined(__x86_64__)
// One row pair of a panel: both rows' 32 bf16 weights per column half, widened to fp32 (the even
// row by a shift into the high half, the odd row by masking off the low half) and accumulated.
__attribute__((target("avx512f"))) static inline void ck_bf16_row_pair(__m512 even[2], __m512 odd[2], const uint16_t *row,
                                                                      float x_even, float x_odd) {
    const __m512i high = _mm512_set1_epi32((int)0xFFFF0000u);
    __m512 x0 = _mm512_set1_ps(x_even), x1 = _mm512_set1_ps(x_odd);
    for (int h = 0; h < 2; h++) {
        __m512i w = _mm512_loadu_si512((const void *)(row + h * 32));
        even[h] = _mm512_fmadd_ps(x0, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)), even[h]);
        odd[h] = _mm512_fmadd_ps(x1, _mm512_castsi512_ps(_mm512_and_si512(w, high)), odd[h]);
    }
}

// One panel: 32 columns over all k rows. Even and odd rows, and two row pairs per iteration,
// accumulate separately so eight FMA chains are in flight.
__attribute__((target("avx512f"))) static void ck_bf16_panel_avx512(const float *x, size_t k, const uint16_t *bp,
                                                                   float *y, size_t cols) {
    __m512 acc[2][2][2];  // [pair parity][row parity][16-column half]
    for (int u = 0; u < 2; u++)
        for (int t = 0; t < 2; t++) acc[u][t][0] = acc[u][t][1] = _mm512_setzero_ps();
    size_t pairs = k / 2, q = 0;
    for (; q + 2 <= pairs; q += 2)
        for (int u = 0; u < 2; u++)
            ck_bf16_row_pair(acc[u][0], acc[u][1], bp + (q + u) * 2 * NR, x[2 * (q + u)], x[2 * (q + u) + 1]);
    for (; q < (k + 1) / 2; q++)  // the last pair, and the odd row (its partner is zero padding)
        ck_bf16_row_pair(acc[0][0], acc[0][1], bp + q * 2 * NR, x[2 * q], 2 * q + 1 < k ? x[2 * q + 1] : 0.0f);
    __m512 sum[2];
    for (int h = 0; h < 2; h++)
        sum[h] = _mm512_add_ps(_mm512_add_ps(acc[0][0][h], acc[0][1][h]), _mm512_add_ps(acc[1][0][h], acc[1][1][h]));
    ck_add_store_row(y, sum[0], sum[1], cols);
}

// One row pair of a panel with AVX2: four ymm of 8 columns × 2 rows each, widened as above (a
// 32-bit shift for the even row, a mask for the odd one) into eight accumulators, which are eight
// independent FMA chains, as many as two FMA pipes of 4-cycle latency keep busy.
__attribute__((target("avx2,fma"), always_inline)) static inline void ck_bf16_row_pair_avx2(
    __m256 even[4], __m256 odd[4], const uint16_t *row, float x_even, float x_odd) {
    const __m256i high = _mm256_set1_epi32((int)0xFFFF0000u);
    __m256 x0 = _mm256_set1_ps(x_even), x1 = _mm256_set1_ps(x_odd);
    for (int h = 0; h < 4; h++) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(row + h * 16));
        even[h] = _mm256_fmadd_ps(x0, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)), even[h]);
        odd[h] = _mm256_fmadd_ps(x1, _mm256_castsi256_ps(_mm256_and_si256(w, high)), odd[h]);
    }
}

__attribute__((target("avx2,fma"))) static void ck_bf16_panel_avx2(const float *x, size_t k, const uint16_t *bp,
                                                                  float *y, size_t cols) {
    __m256 even[4], odd[4];  // [8-column quarter]
    for (int h = 0; h < 4; h++) even[h] = odd[h] = _mm256_setzero_ps();
    size_t pairs = k / 2, q = 0;
    for (; q < pairs; q++) ck_bf16_row_pair_avx2(even, odd, bp + q * 2 * NR, x[2 * q], x[2 * q + 1]);
    if (k % 2) ck_bf16_row_pair_avx2(even, odd, bp + q * 2 * NR, x[2 * q], 0.0f);  // partner is zero padding
    for (int h = 0; h < 4; h++) ck_add_store8(y + 8 * h, _mm256_add_ps(even[h], odd[h]), (ptrdiff_t)cols - 8 * h);
}

#endif

// One panel in portable C, the even and odd rows summed separately as the SIMD panels do.
//                                   x: [k], bp: [(k + 1) / 2][32][2] bf16, y: [cols]
static void ck_bf16_panel_portable(const float *x, size_t k, const uint16_t *bp, float *y, size_t cols) {
    float even[NR] = {0}, odd[NR] = {0};
    for (size_t q = 0; q < (k + 1) / 2; q++) {
        const uint16_t *row = bp + q * 2 * NR;
        float x0 = x[2 * q], x1 = 2 * q + 1 < k ? x[2 * q + 1] : 0.0f;
        for (size_t j = 0; j < NR; j++) {
            even[j] += x0 * ck_float_from_bf16(row[2 * j]);
            odd[j] += x1 * ck_float_from_bf16(row[2 * j + 1]);
        }
    }
    for (size_t j = 0; j < cols; j++) y[j] += even[j] + odd[j];
}

typedef void (*ck_bf16_panel_fn)(const float *x, size_t k, const uint16_t *bp, float *y, size_t cols);

// The calling thread's variant (ck_force_variant may narrow it), chosen once per product on the
// caller so the second thread runs the same kernel.
static ck_bf16_panel_fn ck_bf16_panel_for_caller(void) {
#if defined(__x86_64__)
    switch (ck_active_simd_level()) {
    case 1: return ck_bf16_panel_avx512;
    case 2: return ck_bf16_panel_avx2;
    default: break;
    }
#endif
    return ck_bf16_panel_portable;
}

typedef struct {
    ck_bf16_panel_fn panel_fn;
    const float *x;
    const uint16_t *packed;
    float *y;
    size_t k, n, split, panels;
} ck_bf16_task;

static void ck_bf16_part(void *context, int part) {
    const ck_bf16_task *t = context;
    size_t p0 = part == 0 ? 0 : t->split, p1 = part == 0 ? t->split : t->panels;
    size_t panel_size = ((t->k + 1) / 2) * 2 * NR;
    for (size_t p = p0; p < p1; p++) {
        size_t cols = t->n - p * NR < NR ? t->n - p * NR : NR;
        t->panel_fn(t->x, t->k, t->packed + p * panel_size, t->y + p * NR, cols);
    }
}

void ck_packed_gemv_bf16(const float *x, size_t k, const uint16_t *packed, float *y, size_t n, int threads) {
    size_t panels = (n + NR - 1) / NR;
    ck_bf16_task task = {ck_bf16_panel_for_caller(), x, packed, y, k, n, panels / 2, panels};
    if (threads < 2 || panels < 2) {
        task.split = panels;
        ck_bf16_part(&task, 0);
        return;
    }
    ck_run_in_two(ck_bf16_part, &task, threads);
}

// Batch-1 sampling's products with int8 weights: y[n] += Σ_k x[k] · B[k, n], B stored as
// round(B / s[n]) in int8 with one fp32 scale per column (per output row of the LSTM's W).
//
// A 2 × 512 model's matrices are 13 MB in fp32 and 3.3 MB in int8, so a sampled symbol reads a
// quarter of the bytes. Quantization is symmetric: s[n] = max_k |B[k, n]| / 127 and every weight
// rounds to the nearest of -127 … 127 (never -128, so negating a weight never overflows), an error
// of at most s[n] / 2 per weight.
//
// Layout: panels of 32 columns as in bf16_gemv.c, but rows in groups of four, each column's four
// weights side by side in one 32-bit lane: panel[q][j][t] = B[4q + t][j], zero-padded past k and n.
// One 256-bit load holds 8 columns × 4 rows, the operand shape of the integer dot-product
// instructions (vpmaddubsw, vpdpbusd).
//
// Two ways to multiply:
// - ck_packed_gemv_i8, fp32 activations: each weight widens to fp32 in registers (sign-extending
//   shifts, one convert) and meets x in an FMA; y[j] += s[j] · Σ x[k] · q[k][j]. That is an fp32
//   product of the dequantized weights q · s up to summation order, so scoring the dequantized
//   model (ck_round_rows_i8) measures it.
// - ck_packed_gemv_i8_q, int8 activations: x is quantized beforehand (ck_quantize_i8, one scale
//   per vector) and the products are integer dot products, four per 32-bit lane, summed exactly in
//   int32 (exact for k below 2^31 / 127² ≈ 133,000); y[j] += sx · s[j] · Σ xq · q.
#include "ckernels.h"
#include "panel_store.h"
#include <math.h>
#include <string.h>

#define KG 4  // rows per 32-bit lane

size_t ck_packed_i8_count(size_t k, size_t n) { return ((k + KG - 1) / KG) * KG * ((n + NR - 1) / NR) * NR; }

// The scale of n values at x[i · stride]: the largest magnitude / 127, or 0 if all are 0.
static float ck_i8_scale(const float *x, size_t n, size_t stride) {
    float largest = 0.0f;
    for (size_t i = 0; i < n; i++) largest = fmaxf(largest, fabsf(x[i * stride]));
    return largest / 127.0f;
}

// value / scale rounded to the nearest integer (ties to even), within ±127; 0 when scale is 0.
static int8_t ck_i8_round(float value, float scale) {
    if (!(scale > 0.0f)) return 0;
    float r = nearbyintf(value / scale);
    return (int8_t)(r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r);
}

float ck_quantize_i8(const float *x, size_t n, int8_t *q) {
    float scale = ck_i8_scale(x, n, 1);
    for (size_t i = 0; i < n; i++) q[i] = ck_i8_round(x[i], scale);
    return scale;
}

void ck_round_rows_i8(float *w, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *row = w + r * cols, scale = ck_i8_scale(row, cols, 1);
        for (size_t i = 0; i < cols; i++) row[i] = (float)ck_i8_round(row[i], scale) * scale;
    }
}

void ck_pack_b_i8(const float *b, size_t k, size_t n, size_t row_stride, size_t col_stride, int8_t *packed,
                  float *scales) {
    size_t panels = (n + NR - 1) / NR, groups = (k + KG - 1) / KG;
    for (size_t j = 0; j < panels * NR; j++) scales[j] = j < n ? ck_i8_scale(b + j * col_stride, k, row_stride) : 0.0f;
    for (size_t p = 0; p < panels; p++) {
        int8_t *dst = packed + p * groups * KG * NR;
        for (size_t q = 0; q < groups; q++)
            for (size_t j = 0; j < NR; j++) {
                size_t col = p * NR + j;
                for (size_t t = 0; t < KG; t++) {
                    size_t row = q * KG + t;
                    dst[(q * NR + j) * KG + t] =
                        col < n && row < k ? ck_i8_round(b[row * row_stride + col * col_stride], scales[col]) : 0;
                }
            }
    }
}

// ---------------------------------------------------------------------------------------------
// fp32 activations. One panel: y[0..<cols] += s · Σ_k x[k] · q[k][·].

// Portable C: row t of each group of four summed apart, as the vector code does.
//                                   x: [k], bp: [⌈k/4⌉][32][4] int8, s: [32], y: [cols]
static void ck_i8_panel_portable(const float *x, size_t k, const int8_t *bp, const float *s, float *y, size_t cols) {
    float acc[KG][NR] = {{0}};
    for (size_t q = 0; q < (k + KG - 1) / KG; q++) {
        const int8_t *group = bp + q * KG * NR;
        for (size_t t = 0; t < KG; t++) {
            float xt = q * KG + t < k ? x[q * KG + t] : 0.0f;
            for (size_t j = 0; j < NR; j++) acc[t][j] += xt * (float)group[j * KG + t];
        }
    }
    for (size_t j = 0; j < cols; j++) y[j] += ((acc[0][j] + acc[1][j]) + (acc[2][j] + acc[3][j])) * s[j];
}

#if defined(__x86_64__)
// x[4q + t] for t < 4, zero past k: the last group's padding rows must meet a zero, not x's neighbour.
static inline float ck_x_at(const float *x, size_t k, size_t i) { return i < k ? x[i] : 0.0f; }

// AVX2: per group of four rows, each 32-byte load (8 columns × 4 rows) is widened row by row —
// shift row t's byte to the top of the lane, shift it back down arithmetically (sign-extended),
// convert to fp32 — and accumulated with x[4q + t] broadcast. Even and odd rows go to separate
// accumulators, so eight FMA chains are in flight.
__attribute__((target("avx2,fma"))) static void ck_i8_panel_avx2(const float *x, size_t k, const int8_t *bp,
                                                                 const float *s, float *y, size_t cols) {
    __m256 acc[2][4];
    for (int c = 0; c < 4; c++) acc[0][c] = acc[1][c] = _mm256_setzero_ps();
    size_t groups = (k + KG - 1) / KG;
    for (size_t q = 0; q < groups; q++) {
        const int8_t *group = bp + q * KG * NR;
        __m256 x0 = _mm256_set1_ps(ck_x_at(x, k, q * KG)), x1 = _mm256_set1_ps(ck_x_at(x, k, q * KG + 1));
        __m256 x2 = _mm256_set1_ps(ck_x_at(x, k, q * KG + 2)), x3 = _mm256_set1_ps(ck_x_at(x, k, q * KG + 3));
        for (int c = 0; c < 4; c++) {
            __m256i w = _mm256_loadu_si256((const __m256i *)(group + 32 * c));
            __m256 w0 = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(w, 24), 24));
            __m256 w1 = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(w, 16), 24));
            __m256 w2 = _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(w, 8), 24));
            __m256 w3 = _mm256_cvtepi32_ps(_mm256_srai_epi32(w, 24));
            acc[0][c] = _mm256_fmadd_ps(x2, w2, _mm256_fmadd_ps(x0, w0, acc[0][c]));
            acc[1][c] = _mm256_fmadd_ps(x3, w3, _mm256_fmadd_ps(x1, w1, acc[1][c]));
        }
    }
    float sum[NR];
    for (int c = 0; c < 4; c++) _mm256_storeu_ps(sum + 8 * c, _mm256_add_ps(acc[0][c], acc[1][c]));
    for (size_t j = 0; j < cols; j++) y[j] += sum[j] * s[j];
}
#endif

// ---------------------------------------------------------------------------------------------
// int8 activations. One panel: y[0..<cols] += sx · s · Σ_k xq[k] · q[k][·], the sum exact.

//                         xq: [⌈k/4⌉ · 4] int8 (zero-padded), bp: [⌈k/4⌉][32][4] int8, s: [32], y: [cols]
static void ck_i8q_panel_portable(const int8_t *xq, float sx, size_t k, const int8_t *bp, const float *s, float *y,
                                  size_t cols) {
    int32_t acc[NR] = {0};
    for (size_t q = 0; q < (k + KG - 1) / KG; q++) {
        const int8_t *group = bp + q * KG * NR;
        for (size_t j = 0; j < NR; j++)
            for (size_t t = 0; t < KG; t++) acc[j] += (int32_t)xq[q * KG + t] * group[j * KG + t];
    }
    for (size_t j = 0; j < cols; j++) y[j] += (float)acc[j] * sx * s[j];
}

#if defined(__x86_64__)
// AVX2: vpmaddubsw multiplies unsigned by signed bytes, so the sign of x moves onto the weights
// (|xq| · sign(xq)·q); with both at most 127 in magnitude a pair sums to at most 32,258, inside
// int16, and vpmaddwd by ones adds the two pairs of a lane into int32.
__attribute__((target("avx2,fma"))) static void ck_i8q_panel_avx2(const int8_t *xq, float sx, size_t k,
                                                                  const int8_t *bp, const float *s, float *y,
                                                                  size_t cols) {
    __m256i acc[4];
    for (int c = 0; c < 4; c++) acc[c] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    size_t groups = (k + KG - 1) / KG;
    for (size_t q = 0; q < groups; q++) {
        int32_t four;
        memcpy(&four, xq + q * KG, 4);
        __m256i xb = _mm256_set1_epi32(four), magnitude = _mm256_abs_epi8(xb);
        const int8_t *group = bp + q * KG * NR;
        for (int c = 0; c < 4; c++) {
            __m256i w = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(group + 32 * c)), xb);
            acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, w), ones));
        }
    }
    int32_t sum[NR];
    for (int c = 0; c < 4; c++) _mm256_storeu_si256((__m256i *)(sum + 8 * c), acc[c]);
    for (size_t j = 0; j < cols; j++) y[j] += (float)sum[j] * sx * s[j];
}
#endif

// ---------------------------------------------------------------------------------------------
// The products over all panels, split by whole panels over two threads.

typedef struct {
    const ck_i8_operand *operands;
    size_t count, n, split, panels;
    float *y;
} ck_i8_task;

static void ck_i8_part(void *context, int part) {
    const ck_i8_task *t = context;
    size_t p0 = part == 0 ? 0 : t->split, p1 = part == 0 ? t->split : t->panels;
#if defined(__x86_64__)
    int level = ck_simd_level();
#endif
    for (size_t o = 0; o < t->count; o++) {
        const ck_i8_operand *op = &t->operands[o];
        size_t panel_size = (op->k + KG - 1) / KG * KG * NR;
        for (size_t p = p0; p < p1; p++) {
            size_t cols = t->n - p * NR < NR ? t->n - p * NR : NR;
            const int8_t *bp = op->packed + p * panel_size;
            const float *s = op->scales + p * NR;
            float *y = t->y + p * NR;
#if defined(__x86_64__)
            if (level == 2 || level == 1) {
                if (op->x_quantized) ck_i8q_panel_avx2(op->x_quantized, op->x_scale, op->k, bp, s, y, cols);
                else ck_i8_panel_avx2(op->x, op->k, bp, s, y, cols);
                continue;
            }
#endif
            if (op->x_quantized) ck_i8q_panel_portable(op->x_quantized, op->x_scale, op->k, bp, s, y, cols);
            else ck_i8_panel_portable(op->x, op->k, bp, s, y, cols);
        }
    }
}

void ck_packed_gemv_i8(const ck_i8_operand *operands, size_t count, float *y, size_t n, int threads) {
    size_t panels = (n + NR - 1) / NR;
    ck_i8_task task = {operands, count, n, panels / 2, panels, y};
    if (threads < 2 || panels < 2) {
        task.split = panels;
        ck_i8_part(&task, 0);
        return;
    }
    ck_run_in_two(ck_i8_part, &task, threads);
}

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
// The activations are quantized too, once per call (ck_quantize_i8: one scale per vector, rounded as
// the weights are), and the products are integer dot products, four per 32-bit lane, summed exactly
// in int32 (exact for k below 2^31 / 127² ≈ 133,000): y[j] += sx · s[j] · Σ xq · q. Widening each
// weight to fp32 for an FMA with fp32 x instead was measured 2.5–3× slower per symbol on Zen 3
// (docs/performance.md), and rounding x as well moved the validation loss by 0.00004 nats.
//
// Every variant (portable C, AVX2, AVX-VNNI, AVX-512, AVX-512 VNNI) forms the same int32 sums and
// scales them with the same two fp32 multiplies and one add (never fused: FP_CONTRACT is off), so
// all give the same bits.
#include "ckernels.h"
#include "panel_store.h"
#include <math.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

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
    if (r != r) return 0;  // NaN
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
// One panel: y[0..<cols] += sx · s · Σ_k xq[k] · q[k][·], the sum exact.
//                        xq: [⌈k/4⌉ · 4] int8 (zero-padded), bp: [⌈k/4⌉][32][4] int8, s: [32], y: [cols]
typedef void (*ck_i8_panel_fn)(const int8_t *xq, float sx, size_t k, const int8_t *bp, const float *s, float *y,
                               size_t cols);

// The one scaling of the int32 sums, shared by every variant so all round alike.
static inline void ck_i8_scale_add(const int32_t *sum, float sx, const float *s, float *y, size_t cols) {
    for (size_t j = 0; j < cols; j++) {
        float scaled = (float)sum[j] * sx * s[j];
        y[j] += scaled;
    }
}

static void ck_i8_panel_portable(const int8_t *xq, float sx, size_t k, const int8_t *bp, const float *s, float *y,
                                 size_t cols) {
    int32_t sum[NR] = {0};
    for (size_t q = 0; q < (k + KG - 1) / KG; q++) {
        const int8_t *group = bp + q * KG * NR;
        for (size_t j = 0; j < NR; j++)
            for (size_t t = 0; t < KG; t++) sum[j] += (int32_t)xq[q * KG + t] * group[j * KG + t];
    }
    ck_i8_scale_add(sum, sx, s, y, cols);
}

#if defined(__x86_64__)
// xq[4q … 4q + 3] as one 32-bit value, to broadcast to every lane.
static inline int32_t ck_i8_four(const int8_t *xq, size_t q) {
    int32_t four;
    memcpy(&four, xq + q * KG, 4);
    return four;
}

// AVX2: vpmaddubsw multiplies unsigned by signed bytes, so the sign of x moves onto the weights
// (|xq| · sign(xq)·q); with both at most 127 in magnitude a pair sums to at most 32,258, inside
// int16, and vpmaddwd by ones adds a lane's two pairs into int32. Four loads of 8 columns × 4 rows
// per group, four independent int32 accumulators.
__attribute__((target("avx2,fma"))) static void ck_i8_panel_avx2(const int8_t *xq, float sx, size_t k,
                                                                 const int8_t *bp, const float *s, float *y,
                                                                 size_t cols) {
    __m256i acc[4];
    for (int c = 0; c < 4; c++) acc[c] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t q = 0; q < (k + KG - 1) / KG; q++) {
        __m256i xb = _mm256_set1_epi32(ck_i8_four(xq, q)), magnitude = _mm256_abs_epi8(xb);
        const int8_t *group = bp + q * KG * NR;
        for (int c = 0; c < 4; c++) {
            __m256i w = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(group + 32 * c)), xb);
            acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, w), ones));
        }
    }
    int32_t sum[NR];
    for (int c = 0; c < 4; c++) _mm256_storeu_si256((__m256i *)(sum + 8 * c), acc[c]);
    ck_i8_scale_add(sum, sx, s, y, cols);
}

// AVX-VNNI (256-bit vpdpbusd): the AVX2 kernel with its multiply-and-add pair fused into one
// instruction, which sums the four byte products of a lane straight into int32 (no int16 step).
// Not executed on the machine this was written on (Zen 3 has no VNNI); it mirrors the AVX2 kernel.
__attribute__((target("avx2,fma,avxvnni"))) static void ck_i8_panel_avxvnni(const int8_t *xq, float sx, size_t k,
                                                                            const int8_t *bp, const float *s,
                                                                            float *y, size_t cols) {
    __m256i acc[4];
    for (int c = 0; c < 4; c++) acc[c] = _mm256_setzero_si256();
    for (size_t q = 0; q < (k + KG - 1) / KG; q++) {
        __m256i xb = _mm256_set1_epi32(ck_i8_four(xq, q)), magnitude = _mm256_abs_epi8(xb);
        const int8_t *group = bp + q * KG * NR;
        for (int c = 0; c < 4; c++) {
            __m256i w = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(group + 32 * c)), xb);
            acc[c] = _mm256_dpbusd_avx_epi32(acc[c], magnitude, w);
        }
    }
    int32_t sum[NR];
    for (int c = 0; c < 4; c++) _mm256_storeu_si256((__m256i *)(sum + 8 * c), acc[c]);
    ck_i8_scale_add(sum, sx, s, y, cols);
}

// AVX-512 (BW): the AVX2 kernel on 16 columns × 4 rows per load. AVX-512 has no vpsignb, so the
// weights are negated (0 − w) under a mask of x's negative bytes. Not executed on the machine this
// was written on (Zen 3 has no AVX-512).
__attribute__((target("avx512f,avx512bw"))) static void ck_i8_panel_avx512(const int8_t *xq, float sx, size_t k,
                                                                           const int8_t *bp, const float *s,
                                                                           float *y, size_t cols) {
    __m512i acc[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    const __m512i ones = _mm512_set1_epi16(1), zero = _mm512_setzero_si512();
    for (size_t q = 0; q < (k + KG - 1) / KG; q++) {
        __m512i xb = _mm512_set1_epi32(ck_i8_four(xq, q)), magnitude = _mm512_abs_epi8(xb);
        __mmask64 negative = _mm512_movepi8_mask(xb);
        const int8_t *group = bp + q * KG * NR;
        for (int h = 0; h < 2; h++) {
            __m512i w = _mm512_loadu_si512((const void *)(group + 64 * h));
            w = _mm512_mask_sub_epi8(w, negative, zero, w);
            acc[h] = _mm512_add_epi32(acc[h], _mm512_madd_epi16(_mm512_maddubs_epi16(magnitude, w), ones));
        }
    }
    int32_t sum[NR];
    for (int h = 0; h < 2; h++) _mm512_storeu_si512((void *)(sum + 16 * h), acc[h]);
    ck_i8_scale_add(sum, sx, s, y, cols);
}

// AVX-512 VNNI: the AVX-512 kernel with vpdpbusd. Not executed on the machine this was written on.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void ck_i8_panel_avx512vnni(
    const int8_t *xq, float sx, size_t k, const int8_t *bp, const float *s, float *y, size_t cols) {
    __m512i acc[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    const __m512i zero = _mm512_setzero_si512();
    for (size_t q = 0; q < (k + KG - 1) / KG; q++) {
        __m512i xb = _mm512_set1_epi32(ck_i8_four(xq, q)), magnitude = _mm512_abs_epi8(xb);
        __mmask64 negative = _mm512_movepi8_mask(xb);
        const int8_t *group = bp + q * KG * NR;
        for (int h = 0; h < 2; h++) {
            __m512i w = _mm512_loadu_si512((const void *)(group + 64 * h));
            acc[h] = _mm512_dpbusd_epi32(acc[h], magnitude, _mm512_mask_sub_epi8(w, negative, zero, w));
        }
    }
    int32_t sum[NR];
    for (int h = 0; h < 2; h++) _mm512_storeu_si512((void *)(sum + 16 * h), acc[h]);
    ck_i8_scale_add(sum, sx, s, y, cols);
}
#endif

// The kernel for the calling thread's variant (ck_variant_name: CHARNN_SIMD, or a test's
// ck_force_variant), with VNNI where the CPU has it.
static ck_i8_panel_fn ck_i8_panel_for_variant(void) {
#if defined(__x86_64__)
    const char *variant = ck_variant_name();
    if (strcmp(variant, "avx512") == 0)
        return __builtin_cpu_supports("avx512vnni") ? ck_i8_panel_avx512vnni : ck_i8_panel_avx512;
    if (strcmp(variant, "avx2") == 0)
        return __builtin_cpu_supports("avxvnni") ? ck_i8_panel_avxvnni : ck_i8_panel_avx2;
#endif
    return ck_i8_panel_portable;
}

const char *ck_i8_kernel_name(void) {
    ck_i8_panel_fn panel = ck_i8_panel_for_variant();
#if defined(__x86_64__)
    if (panel == ck_i8_panel_avx512vnni) return "avx512-vnni";
    if (panel == ck_i8_panel_avx512) return "avx512";
    if (panel == ck_i8_panel_avxvnni) return "avx-vnni";
    if (panel == ck_i8_panel_avx2) return "avx2";
#endif
    (void)panel;
    return "portable";
}

// ---------------------------------------------------------------------------------------------
// The products over all panels, split by whole panels over two threads. The kernel is chosen on
// the calling thread, so a variant a test forces there holds on the second thread too.
//
// Rows (streams) loop inside the panels: a panel of a 2 × 384 model's layer is 32 columns × 768
// bytes = 24 KB of int8 weights, which stays in L1 while every row's vector meets it. With rows
// outside, each stream streamed the whole 2.4 MB of weights from L3 again, and a batch of 32
// streams cost 32 single steps. Each y[j] still adds its operands in order, so the bits are those
// of one call per row.

typedef struct {
    const ck_i8_operand *operands;
    size_t count, rows, ldy, n, split, panels;
    float *y;
    ck_i8_panel_fn panel;
} ck_i8_task;

static void ck_i8_part(void *context, int part) {
    const ck_i8_task *t = context;
    size_t p0 = part == 0 ? 0 : t->split, p1 = part == 0 ? t->split : t->panels;
    for (size_t p = p0; p < p1; p++) {
        size_t cols = t->n - p * NR < NR ? t->n - p * NR : NR;
        for (size_t r = 0; r < t->rows; r++)
            for (size_t o = 0; o < t->count; o++) {
                const ck_i8_operand *op = &t->operands[r * t->count + o];
                size_t panel_size = (op->k + KG - 1) / KG * KG * NR;
                t->panel(op->x, op->x_scale, op->k, op->packed + p * panel_size, op->scales + p * NR,
                         t->y + r * t->ldy + p * NR, cols);
            }
    }
}

void ck_packed_gemm_i8(const ck_i8_operand *operands, size_t count, size_t rows, float *y, size_t ldy, size_t n,
                       int threads) {
    size_t panels = (n + NR - 1) / NR;
    ck_i8_task task = {operands, count, rows, ldy, n, panels / 2, panels, y, ck_i8_panel_for_variant()};
    if (threads < 2 || panels < 2) {
        task.split = panels;
        ck_i8_part(&task, 0);
        return;
    }
    ck_run_in_two(ck_i8_part, &task, threads);
}

void ck_packed_gemv_i8(const ck_i8_operand *operands, size_t count, float *y, size_t n, int threads) {
    ck_packed_gemm_i8(operands, count, 1, y, n, n, threads);
}

// Kernels for charnn in C: activations, softmax/cross-entropy, the fused LSTM cell, and CRC-32C.
//
// Each kernel is compiled three times (AVX-512, AVX2+FMA, baseline x86-64) and the widest one this
// CPU supports is picked once, before main (CHARNN_SIMD may name a narrower one). On other
// architectures (aarch64) only the portable C of each kernel is built. The Swift side calls only these entry points, so a
// binary built on any x86-64 runs on any x86-64. docs/simd.md explains the choice.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Name of the kernel variant in use: "avx512", "avx2" or "baseline".
const char *ck_variant_name(void);
/// Forces a variant by name ("avx512", "avx2", "baseline") for the calling thread only, or restores
/// the default with NULL; returns 0 if the process may not run it (see ck_simd_level). Tests use it
/// to compare variants.
int ck_force_variant(const char *name);
/// 1 if the CPU supports AVX-512F, 2 if AVX2+FMA (and not AVX-512F), 0 otherwise (and on every
/// CPU that is not x86-64).
int ck_cpu_simd_level(void);
/// The process's level, in ck_cpu_simd_level's numbers: the CPU's, or the narrower one that the
/// environment variable CHARNN_SIMD (baseline, avx2, avx512; read once, before main) names. Every
/// ISA-specific path follows it: the element-wise variant, the packed GEMM, the bf16 panels, the
/// CRC-32C instruction (SSE4.2, not part of baseline x86-64).
int ck_simd_level(void);
/// What became of CHARNN_SIMD. The kernels never print; the caller warns about the last two.
enum {
    CK_SIMD_DEFAULT = 0,      // unset or empty: the CPU's widest variant
    CK_SIMD_FORCED = 1,       // names a variant this CPU runs, which is in use
    CK_SIMD_UNSUPPORTED = 2,  // names a variant this CPU cannot run: the widest it runs is in use
    CK_SIMD_UNKNOWN = 3,      // names no variant: the widest the CPU runs is in use
};
int ck_simd_request(void);
/// CHARNN_SIMD as read before main (at most 31 bytes), or "" if unset.
const char *ck_simd_requested(void);

// y[i] = 1 / (1 + exp(-x[i]))                                                   x, y: [n]
void ck_sigmoid(const float *x, float *y, size_t n);
// y[i] = tanh(x[i])                                                              x, y: [n]
void ck_tanh(const float *x, float *y, size_t n);
// dx[i] = dy[i] * y[i] * (1 - y[i]), with y = sigmoid(x)                     y, dy, dx: [n]
void ck_sigmoid_backward(const float *y, const float *dy, float *dx, size_t n);
// dx[i] = dy[i] * (1 - y[i]^2), with y = tanh(x)                             y, dy, dx: [n]
void ck_tanh_backward(const float *y, const float *dy, float *dx, size_t n);

// Row-wise softmax of a [rows, cols] matrix, max-subtracted. x and y must not overlap.
//                                                                             x, y: [rows, cols]
void ck_softmax(const float *x, float *y, size_t rows, size_t cols);
// Row-wise log-softmax, x - max - log(sum(exp(x - max))). x and y must not overlap.
//                                                                             x, y: [rows, cols]
void ck_log_softmax(const float *x, float *y, size_t rows, size_t cols);
// Softmax cross-entropy, forward and backward in one pass over each row.
// logits: [rows, cols], targets: [rows], probs_or_grad: [rows, cols], row_losses: [rows].
// Writes -log p(target) per row, and (softmax - onehot(target)) * grad_scale into probs_or_grad
// (which may alias logits). Returns the sum of the row losses in double precision.
double ck_softmax_xent(const float *logits, const int32_t *targets, float *probs_or_grad,
                       float *row_losses, size_t rows, size_t cols, float grad_scale);

// The LSTM cell at one time step for a [B, 4H] block of gate pre-activations laid out per row as
// [i | f | g | o] (PyTorch's order). In place: pre becomes the activated gates.
//   c = f * c_prev + i * g;  h = o * tanh(c)
// pre: [B, 4H]; c_prev, c, h: [B, H].
void ck_lstm_cell_forward(float *pre, const float *c_prev, float *c, float *h, size_t batch, size_t hidden);
// Backward of the cell at one step, in place: `gates` holds the activated gates from forward on
// entry and the gate pre-activation gradients on exit ([B, 4H]; the backward pass needs gate t only
// at step t, so no separate gradient buffer is needed). c_prev and c are the cell state before and
// after the step (tanh(c) is recomputed rather than stored: it saves a [T, B, H] buffer per layer for
// one tanh per element). dh is the total gradient reaching h (from above and from the next step);
// dc_next the gradient from the next step's c, updated in place to d c_prev.
void ck_lstm_cell_backward(float *gates, const float *c_prev, const float *c, const float *dh, float *dc_next,
                           size_t batch, size_t hidden);

// Σ x[i]², accumulated in double; the same bits in every variant.                  x: [n]
double ck_sum_squares(const float *x, size_t n);
// One Adam step over n parameters, in place (bias corrections folded into step_size = lr / (1 - β1^t)
// and c2root = √(1 - β2^t)): m ← β1·m + (1-β1)·g, v ← β2·v + (1-β2)·g², θ ← θ - step_size · m / (√v / c2root + ε).
//                                                                       theta, g, m, v: [n]
void ck_adam_update(float *theta, const float *g, float *m, float *v, size_t n, float beta1, float beta2, float eps,
                    float step_size, float c2root);

// The recurrent step's product with its weight operand packed once (recurrent_gemm.c).
// ck_packed_gemm_supported() is 1 when a packed kernel that beats BLAS exists at the process's
// level (AVX-512 or AVX2 + FMA: ck_simd_level() 1 or 2); otherwise use BLAS. Where it is 0,
// ck_packed_gemm still works, in portable C (for tests and other CPUs). The kernel that runs
// follows the calling thread's variant, so ck_force_variant selects it too.
int ck_packed_gemm_supported(void);
// As ck_packed_gemm_supported, for the calling thread's variant (ck_force_variant may narrow it):
// the model's layers ask it per pass, so a thread forced to baseline takes BLAS as a baseline
// CPU does.
int ck_packed_gemm_fast_on_this_thread(void);
// Floats needed to pack a [k, n] operand.
size_t ck_packed_b_floats(size_t k, size_t n);
// Packs B [k, n], element (kk, j) at b[kk * row_stride + j * col_stride], into `packed`.
void ck_pack_b(const float *b, size_t k, size_t n, size_t row_stride, size_t col_stride, float *packed);
// C[m, n] += A[m, k] · B, B packed by ck_pack_b; `threads` 1 or 2 (a second thread takes half the columns).
// Thread-safe: while one caller uses the shared second thread, other callers run single-threaded.
void ck_packed_gemm(const float *a, size_t m, size_t k, const float *packed, float *c, size_t n, int threads);

// Batch-1 products with bfloat16 weights and fp32 arithmetic (bf16_gemv.c): fast with AVX-512 or
// AVX2, when ck_packed_gemm_supported(); elsewhere portable C with the same rounding. Each weight is
// rounded to bf16 (nearest even) when packed; x and y stay fp32.
// uint16s needed to pack a [k, n] operand (k rounded up to even, n to 32-column panels).
size_t ck_packed_bf16_count(size_t k, size_t n);
// Packs B [k, n], element (kk, j) at b[kk * row_stride + j * col_stride], as bf16 row pairs.
void ck_pack_b_bf16(const float *b, size_t k, size_t n, size_t row_stride, size_t col_stride, uint16_t *packed);
// y[n] += x[k] · B, B packed by ck_pack_b_bf16; `threads` 1 or 2, as ck_packed_gemm.
void ck_packed_gemv_bf16(const float *x, size_t k, const uint16_t *packed, float *y, size_t n, int threads);
// fp32 → bf16 with round-to-nearest-even, and back (exact).
uint16_t ck_bf16_from_float(float value);
float ck_float_from_bf16(uint16_t value);

// Runs task(context, 0) on the calling thread and task(context, 1) on charnn's second thread at
// the same time (both on the caller when threads < 2 or the second thread is busy elsewhere).
void ck_run_in_two(void (*task)(void *context, int part), void *context, int threads);
// Lets the second thread sleep at once after its current task instead of spinning for the next:
// call it when a run of back-to-back tasks (a time loop) is over.
void ck_worker_rest(void);
// The cell kernels with the batch split over two threads (see ck_run_in_two).
void ck_lstm_cell_forward_threaded(float *pre, const float *c_prev, float *c, float *h, size_t batch,
                                   size_t hidden, int threads);
void ck_lstm_cell_backward_threaded(float *gates, const float *c_prev, const float *c, const float *dh,
                                    float *dc_next, size_t batch, size_t hidden, int threads);

// CRC-32C (Castagnoli) of `count` bytes, continuing from `crc` (0 to start). Hardware-accelerated
// with SSE4.2 where available (and ck_simd_level() is not baseline). crc32c("123456789") == 0xE3069283.
uint32_t ck_crc32c_update(uint32_t crc, const void *data, size_t count);

// The GRU cell (PyTorch's nn.GRU, gates r, z, n) at one step, per-ISA like the LSTM cell.
// gx: the input side x·W_ihᵀ + b_ih, [B, 3H] as [r | z | n] per row; gh: the hidden side
// h_prev·W_hhᵀ + b_hh, [B, 3H]; h_prev, h: [B, H].
//   r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·h_n), h = (1 − z)·n + z·h_prev
// gx becomes the activated r, z, n (what backward needs, with gh and h_prev).
void ck_gru_cell_forward(float *gx, const float *gh, const float *h_prev, float *h, size_t batch, size_t hidden);
// Backward of one GRU step, in place. gx: r, z, n on entry, the input side's pre-activation gradient
// on exit; gh: the hidden side's pre-activations on entry, their gradient on exit ([dr | dz | r·dn]);
// dh [B, H]: the total gradient reaching h on entry, its direct part z·dh to h_prev on exit (the
// caller adds gh · W_hh).
void ck_gru_cell_backward(float *gx, float *gh, const float *h_prev, float *dh, size_t batch, size_t hidden);

// ---- int8 sampling weights (int8_gemv.c) ------------------------------------------------------
// Batch-1 products with int8 weights, one fp32 scale per column of B (per output row of the
// LSTM's W): symmetric, s = max |column| / 127, each weight round(w / s) in -127 … 127 (ties to
// even), so dequantized it is within s / 2 of the weight. The activations are quantized the same
// way, one scale per vector, and the products are integer dot products. Fast paths for AVX2 and
// AVX-512 (with VNNI where the CPU has it), portable C elsewhere, chosen by the variant in use.
// Bytes needed to pack a [k, n] operand (k rounded up to a multiple of 4, n to 32-column panels).
size_t ck_packed_i8_count(size_t k, size_t n);
// Packs B [k, n], element (kk, j) at b[kk * row_stride + j * col_stride], as int8 in groups of
// four rows; writes each column's scale to scales[0..<n], and 0 to the panel padding after it
// (scales: [n rounded up to 32]).
void ck_pack_b_i8(const float *b, size_t k, size_t n, size_t row_stride, size_t col_stride, int8_t *packed,
                  float *scales);
// Replaces each row of w [rows, cols] by its int8 round trip, q · s with s from that row: the
// weights as the packed product uses them.
void ck_round_rows_i8(float *w, size_t rows, size_t cols);
// Quantizes x [n] with one scale for the whole vector (as the weights, above) into q [n]; returns
// the scale (0 when every value is 0).
float ck_quantize_i8(const float *x, size_t n, int8_t *q);
// One operand of ck_packed_gemv_i8: x times B [k, n] packed by ck_pack_b_i8 with its scales, x
// given quantized by ck_quantize_i8 (x_scale its return value), in a buffer of k rounded up to a
// multiple of 4 whose padding is zero.
typedef struct {
    const int8_t *x;
    float x_scale;
    size_t k;
    const int8_t *packed;
    const float *scales;
} ck_i8_operand;
// y[n] += Σ over the operands of x_scale · (x · B) · scales, each dot product summed exactly in
// int32 (k < 133,000); `threads` 1 or 2, as ck_packed_gemm (the second thread takes half the panels
// of every operand). Every variant gives the same bits.
void ck_packed_gemv_i8(const ck_i8_operand *operands, size_t count, float *y, size_t n, int threads);
// The same for `rows` vectors at once: operands [rows][count], row r's own (its x and x_scale; B
// and scales shared), its results at y + r · ldy. Each row's bits are those of its own
// ck_packed_gemv_i8 call; the rows share each panel of B while it is in cache.
void ck_packed_gemm_i8(const ck_i8_operand *operands, size_t count, size_t rows, float *y, size_t ldy, size_t n,
                       int threads);
// The kernel ck_packed_gemv_i8 runs on the calling thread: "avx512-vnni", "avx512", "avx-vnni",
// "avx2" or "portable" (the variant in use, with VNNI where the CPU has it).
const char *ck_i8_kernel_name(void);

#ifdef __cplusplus
}
#endif
#endif

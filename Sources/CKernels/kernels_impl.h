// The kernel bodies, written as plain loops without calls so that the compiler vectorizes them for
// whatever instruction set the including file names in CK_TARGET. Included once per variant by
// kernels_avx512.c, kernels_avx2.c and kernels_baseline.c, each defining CK_NAME(x) and CK_TARGET.
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stddef.h>

#define CK_INLINE static inline __attribute__((always_inline))

// exp(x) by range reduction to r in [-ln2/2, ln2/2] and Cephes' degree-6 polynomial; within 2 ulp
// over the clamped range. Branch-free and call-free, so it vectorizes; results for x < -87.3
// are the smallest normal float rather than 0, far below anything a loss can see.
CK_INLINE float CK_NAME(exp_approx)(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    float kf = x * 1.44269504088896341f;
    kf = (kf + 12582912.0f) - 12582912.0f; // round to nearest integer (1.5 * 2^23 trick)
    float r = x - kf * 0.693359375f;
    r = r - kf * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t k = (int32_t)kf;
    int32_t bits = (k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

CK_INLINE float CK_NAME(sigmoid1)(float x) { return 1.0f / (1.0f + CK_NAME(exp_approx)(-x)); }

// tanh: an odd polynomial near 0 (Cephes tanhf, where 1 - 2/(e^2x + 1) would lose relative
// precision) and the exp form elsewhere; both are computed and one selected, to stay branch-free.
CK_INLINE float CK_NAME(tanh1)(float x) {
    float ax = x < 0.0f ? -x : x;
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                    1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float big = 1.0f - 2.0f / (CK_NAME(exp_approx)(2.0f * ax) + 1.0f);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

CK_TARGET static void CK_NAME(sigmoid)(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = CK_NAME(sigmoid1)(x[i]);
}

CK_TARGET static void CK_NAME(tanh)(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = CK_NAME(tanh1)(x[i]);
}

CK_TARGET static void CK_NAME(sigmoid_backward)(const float *y, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

CK_TARGET static void CK_NAME(tanh_backward)(const float *y, const float *dy, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

CK_INLINE float CK_NAME(row_max)(const float *x, size_t n) {
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

// x = exp(x - m) in place; returns the sum, accumulated in float lanes. One array, so the loop
// vectorizes without a run-time overlap check (which failed for in-place calls and ran scalar).
CK_INLINE float CK_NAME(exp_shifted_in_place)(float *x, size_t n, float m) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float e = CK_NAME(exp_approx)(x[i] - m);
        x[i] = e;
        s += e;
    }
    return s;
}

// y = exp(x - m), returning the sum: a copy, then the in-place loop (y may equal x).
CK_INLINE float CK_NAME(exp_shifted)(const float *x, float *y, size_t n, float m) {
    if (y != x) memcpy(y, x, n * sizeof(float));
    return CK_NAME(exp_shifted_in_place)(y, n, m);
}

CK_TARGET static void CK_NAME(softmax)(const float *x, float *y, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = CK_NAME(row_max)(xr, cols);
        float inv = 1.0f / CK_NAME(exp_shifted)(xr, yr, cols, m);
        for (size_t i = 0; i < cols; i++) yr[i] *= inv;
    }
}

CK_TARGET static void CK_NAME(log_softmax)(const float *x, float *y, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = CK_NAME(row_max)(xr, cols);
        float log_s = logf(CK_NAME(exp_shifted)(xr, yr, cols, m));
        // (x - m) first: it is exact near the max, where m + log s would round at |m|'s scale.
        for (size_t i = 0; i < cols; i++) yr[i] = (xr[i] - m) - log_s;
    }
}

CK_TARGET static double CK_NAME(softmax_xent)(const float *logits, const int32_t *targets,
                                              float *out, float *row_losses, size_t rows,
                                              size_t cols, float grad_scale) {
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = logits + r * cols;
        float *pr = out + r * cols;
        size_t t = (size_t)targets[r];
        float m = CK_NAME(row_max)(xr, cols);
        float target_logit = xr[t]; // read before out (which may alias logits) is written
        float s = CK_NAME(exp_shifted)(xr, pr, cols, m);
        float loss = (m - target_logit) + logf(s); // subtract first: exact when the logits are huge
        row_losses[r] = loss;
        total += (double)loss;
        float scale = grad_scale / s;
        for (size_t i = 0; i < cols; i++) pr[i] *= scale;
        pr[t] -= grad_scale;
    }
    return total;
}

// One row of the cell. The pointers are `restrict` so the vectorizer need not prove at run time
// that the eight arrays are disjoint: without it the run-time overlap check failed and the scalar
// loop ran, 30 ns per element instead of 2.
CK_INLINE void CK_NAME(lstm_cell_row_forward)(float *restrict gi, float *restrict gf, float *restrict gg,
                                              float *restrict go, const float *restrict cp, float *restrict cr,
                                              float *restrict hr, size_t hidden) {
    for (size_t j = 0; j < hidden; j++) {
        float i = CK_NAME(sigmoid1)(gi[j]);
        float f = CK_NAME(sigmoid1)(gf[j]);
        float g = CK_NAME(tanh1)(gg[j]);
        float o = CK_NAME(sigmoid1)(go[j]);
        float cn = f * cp[j] + i * g;
        float tc = CK_NAME(tanh1)(cn);
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        cr[j] = cn;
        hr[j] = o * tc;
    }
}

CK_TARGET static void CK_NAME(lstm_cell_forward)(float *pre, const float *c_prev, float *c, float *h,
                                                 size_t batch, size_t hidden) {
    for (size_t b = 0; b < batch; b++) {
        float *gi = pre + b * 4 * hidden;
        CK_NAME(lstm_cell_row_forward)(gi, gi + hidden, gi + 2 * hidden, gi + 3 * hidden, c_prev + b * hidden,
                                       c + b * hidden, h + b * hidden, hidden);
    }
}

// In place: each gate slot holds the activated gate on entry and its pre-activation gradient on
// exit (the backward pass needs gate t only at step t, so dGates can reuse the forward's buffer).
CK_INLINE void CK_NAME(lstm_cell_row_backward)(float *restrict gi, float *restrict gf, float *restrict gg,
                                               float *restrict go, const float *restrict cp,
                                               const float *restrict cr, const float *restrict dhr,
                                               float *restrict dcr, size_t hidden) {
    for (size_t j = 0; j < hidden; j++) {
        float i = gi[j], f = gf[j], g = gg[j], o = go[j], tc = CK_NAME(tanh1)(cr[j]);
        float dhj = dhr[j];
        float dc = dcr[j] + dhj * o * (1.0f - tc * tc);
        gi[j] = dc * g * i * (1.0f - i);
        gf[j] = dc * cp[j] * f * (1.0f - f);
        gg[j] = dc * i * (1.0f - g * g);
        go[j] = dhj * tc * o * (1.0f - o);
        dcr[j] = dc * f;
    }
}

CK_TARGET static void CK_NAME(lstm_cell_backward)(float *gates, const float *c_prev, const float *c,
                                                  const float *dh, float *dc_next, size_t batch,
                                                  size_t hidden) {
    for (size_t b = 0; b < batch; b++) {
        float *g = gates + b * 4 * hidden;
        CK_NAME(lstm_cell_row_backward)(g, g + hidden, g + 2 * hidden, g + 3 * hidden, c_prev + b * hidden,
                                        c + b * hidden, dh + b * hidden, dc_next + b * hidden, hidden);
    }
}

// Σ x[i]² in double. Sixteen independent accumulators in a fixed order let the compiler vectorize
// the loop without reassociating it; each square of a float is exact in double, so FMA or not, every
// variant gets the same bits.
CK_TARGET static double CK_NAME(sum_squares)(const float *x, size_t n) {
    double acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++) acc[j] += (double)x[i + j] * (double)x[i + j];
    for (size_t j = 0; i < n; i++, j++) acc[j] += (double)x[i] * (double)x[i];
    double sum = 0;
    for (size_t j = 0; j < 16; j++) sum += acc[j];
    return sum;
}

#if __has_builtin(__builtin_elementwise_sqrt)
#define CK_SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define CK_SQRT(x) sqrtf(x)
#endif

// Adam with bias correction folded into step_size (lr / (1 - β1^t)) and c2root (√(1 - β2^t)):
//   m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²,  θ ← θ - step_size · m / (√v / c2root + ε)
CK_TARGET static void CK_NAME(adam_update)(float *restrict theta, const float *restrict g, float *restrict m,
                                           float *restrict v, size_t n, float beta1, float beta2, float eps,
                                           float step_size, float c2root) {
    float a1 = 1.0f - beta1, a2 = 1.0f - beta2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = beta1 * m[i] + a1 * gi;
        float vi = beta2 * v[i] + a2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        theta[i] -= step_size * mi / (CK_SQRT(vi) / c2root + eps);
    }
}

// The GRU cell (PyTorch's nn.GRU) at one step. gx holds the input side x·W_ihᵀ + b_ih as [r | z | n]
// per row, gh the hidden side h_prev·W_hhᵀ + b_hh the same way (the two stay apart because n
// multiplies only the hidden side by r):
//   r = σ(x_r + h_r),  z = σ(x_z + h_z),  n = tanh(x_n + r ⊙ h_n),  h = (1 − z) ⊙ n + z ⊙ h_prev
// In place: gx becomes the activated r, z, n; gh is left as it is (backward needs h_n).
CK_INLINE void CK_NAME(gru_cell_row_forward)(float *restrict xr, float *restrict xz, float *restrict xn,
                                             const float *restrict hr, const float *restrict hz,
                                             const float *restrict hn, const float *restrict hp,
                                             float *restrict h, size_t hidden) {
    for (size_t j = 0; j < hidden; j++) {
        float r = CK_NAME(sigmoid1)(xr[j] + hr[j]);
        float z = CK_NAME(sigmoid1)(xz[j] + hz[j]);
        float n = CK_NAME(tanh1)(xn[j] + r * hn[j]);
        xr[j] = r;
        xz[j] = z;
        xn[j] = n;
        h[j] = (1.0f - z) * n + z * hp[j];
    }
}

CK_TARGET static void CK_NAME(gru_cell_forward)(float *gx, const float *gh, const float *h_prev, float *h,
                                                size_t batch, size_t hidden) {
    for (size_t b = 0; b < batch; b++) {
        float *x = gx + b * 3 * hidden;
        const float *g = gh + b * 3 * hidden;
        CK_NAME(gru_cell_row_forward)(x, x + hidden, x + 2 * hidden, g, g + hidden, g + 2 * hidden,
                                      h_prev + b * hidden, h + b * hidden, hidden);
    }
}

// Backward of one GRU step, in place: gx holds r, z, n on entry and the input side's gradient
// [dr | dz | dn] (pre-activation) on exit; gh holds the hidden side's pre-activations on entry and
// their gradient [dr | dz | r ⊙ dn] on exit. dh is the total gradient reaching h on entry and its
// direct part to h_prev, z ⊙ dh, on exit (the caller adds gh · W_hh).
CK_INLINE void CK_NAME(gru_cell_row_backward)(float *restrict xr, float *restrict xz, float *restrict xn,
                                              float *restrict hr, float *restrict hz, float *restrict hn,
                                              const float *restrict hp, float *restrict dh, size_t hidden) {
    for (size_t j = 0; j < hidden; j++) {
        float r = xr[j], z = xz[j], n = xn[j], d = dh[j];
        float dn = d * (1.0f - z) * (1.0f - n * n);
        float dz = d * (hp[j] - n) * z * (1.0f - z);
        float dr = dn * hn[j] * r * (1.0f - r);
        xr[j] = dr;
        xz[j] = dz;
        xn[j] = dn;
        hr[j] = dr;
        hz[j] = dz;
        hn[j] = dn * r;
        dh[j] = d * z;
    }
}

CK_TARGET static void CK_NAME(gru_cell_backward)(float *gx, float *gh, const float *h_prev, float *dh,
                                                 size_t batch, size_t hidden) {
    for (size_t b = 0; b < batch; b++) {
        float *x = gx + b * 3 * hidden, *g = gh + b * 3 * hidden;
        CK_NAME(gru_cell_row_backward)(x, x + hidden, x + 2 * hidden, g, g + hidden, g + 2 * hidden,
                                       h_prev + b * hidden, dh + b * hidden, hidden);
    }
}

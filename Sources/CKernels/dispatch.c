// Picks the widest kernel variant this CPU runs, once, and forwards the public entry points to it.
#include "ckernels.h"
#include "kernels_variants.h"
#include <string.h>

int ck_cpu_simd_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return 1;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
    return 0;
}

static const ck_table *ck_pick(void) {
    switch (ck_cpu_simd_level()) {
    case 1: return &ck_table_avx512;
    case 2: return &ck_table_avx2;
    default: return &ck_table_baseline;
    }
}

// Resolved before main by a constructor, so concurrent first calls never race on it.
static const ck_table *ck_default;
__attribute__((constructor)) static void ck_init(void) { ck_default = ck_pick(); }

// A per-thread override, so a test can run one variant while other threads keep the default.
static __thread const ck_table *ck_override;
#define ck_active (ck_override ? ck_override : ck_default)

const char *ck_variant_name(void) { return ck_active->name; }

int ck_force_variant(const char *name) {
    int level = ck_cpu_simd_level();
    if (name == NULL) { ck_override = NULL; return 1; }
    if (strcmp(name, "baseline") == 0) { ck_override = &ck_table_baseline; return 1; }
    if (strcmp(name, "avx2") == 0 && (level == 1 || level == 2)) { ck_override = &ck_table_avx2; return 1; }
    if (strcmp(name, "avx512") == 0 && level == 1) { ck_override = &ck_table_avx512; return 1; }
    return 0;
}

void ck_sigmoid(const float *x, float *y, size_t n) { ck_active->sigmoid(x, y, n); }
void ck_tanh(const float *x, float *y, size_t n) { ck_active->tanh(x, y, n); }
void ck_sigmoid_backward(const float *y, const float *dy, float *dx, size_t n) {
    ck_active->sigmoid_backward(y, dy, dx, n);
}
void ck_tanh_backward(const float *y, const float *dy, float *dx, size_t n) {
    ck_active->tanh_backward(y, dy, dx, n);
}
void ck_softmax(const float *x, float *y, size_t rows, size_t cols) {
    ck_active->softmax(x, y, rows, cols);
}
void ck_log_softmax(const float *x, float *y, size_t rows, size_t cols) {
    ck_active->log_softmax(x, y, rows, cols);
}
double ck_softmax_xent(const float *logits, const int32_t *targets, float *probs_or_grad,
                       float *row_losses, size_t rows, size_t cols, float grad_scale) {
    return ck_active->softmax_xent(logits, targets, probs_or_grad, row_losses, rows, cols, grad_scale);
}
void ck_lstm_cell_forward(float *pre, const float *c_prev, float *c, float *h, size_t batch, size_t hidden) {
    ck_active->lstm_cell_forward(pre, c_prev, c, h, batch, hidden);
}
void ck_lstm_cell_backward(float *gates, const float *c_prev, const float *c, const float *dh, float *dc_next,
                           size_t batch, size_t hidden) {
    ck_active->lstm_cell_backward(gates, c_prev, c, dh, dc_next, batch, hidden);
}
double ck_sum_squares(const float *x, size_t n) { return ck_active->sum_squares(x, n); }
void ck_adam_update(float *theta, const float *g, float *m, float *v, size_t n, float beta1, float beta2, float eps,
                    float step_size, float c2root) {
    ck_active->adam_update(theta, g, m, v, n, beta1, beta2, eps, step_size, c2root);
}

// Picks the kernel variant once, before main, and forwards the public entry points to it: the
// widest this CPU runs, or the one CHARNN_SIMD names if the CPU runs it (docs/simd.md).
#include "ckernels.h"
#include "kernels_variants.h"
#include <stdlib.h>
#include <string.h>

// Variants by width, so "at most as wide as" is a comparison. The public level numbers
// (ck_cpu_simd_level: 1 AVX-512, 2 AVX2, 0 baseline) are older and kept as they are.
enum { CK_RANK_BASELINE = 0, CK_RANK_AVX2 = 1, CK_RANK_AVX512 = 2, CK_RANK_UNKNOWN = -1 };
static const char *const ck_rank_names[] = {"baseline", "avx2", "avx512"};
static const int ck_rank_levels[] = {0, 2, 1};

static int ck_cpu_rank(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return CK_RANK_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CK_RANK_AVX2;
#endif
    return CK_RANK_BASELINE;
}

static int ck_rank_of(const char *name) {
    for (int r = CK_RANK_BASELINE; r <= CK_RANK_AVX512; r++)
        if (strcmp(name, ck_rank_names[r]) == 0) return r;
    return CK_RANK_UNKNOWN;
}

static const ck_table *ck_table_of(int rank) {
#if defined(__x86_64__)
    if (rank == CK_RANK_AVX512) return &ck_table_avx512;
    if (rank == CK_RANK_AVX2) return &ck_table_avx2;
#endif
    (void)rank;
    return &ck_table_baseline;
}

int ck_cpu_simd_level(void) { return ck_rank_levels[ck_cpu_rank()]; }

// Resolved before main by a constructor, so concurrent first calls never race on them.
static int ck_rank = -1;          // the process's variant: the CPU's, or narrower if CHARNN_SIMD says so
static int ck_request;            // CK_SIMD_* below
static char ck_requested[32];     // CHARNN_SIMD as read, truncated
static const ck_table *ck_default;

static void ck_init_once(void) {
    if (ck_rank >= 0) return;
    int cpu = ck_cpu_rank();
    const char *value = getenv("CHARNN_SIMD");
    ck_request = CK_SIMD_DEFAULT;
    ck_rank = cpu;
    if (value != NULL && value[0] != '\0') {
        strncpy(ck_requested, value, sizeof ck_requested - 1);
        int wanted = ck_rank_of(value);
        if (wanted == CK_RANK_UNKNOWN) ck_request = CK_SIMD_UNKNOWN;
        else if (wanted > cpu) ck_request = CK_SIMD_UNSUPPORTED;
        else {
            ck_request = CK_SIMD_FORCED;
            ck_rank = wanted;
        }
    }
    ck_default = ck_table_of(ck_rank);
}

__attribute__((constructor)) static void ck_init(void) { ck_init_once(); }

int ck_simd_level(void) {
    ck_init_once();
    return ck_rank_levels[ck_rank];
}

int ck_simd_request(void) {
    ck_init_once();
    return ck_request;
}

const char *ck_simd_requested(void) {
    ck_init_once();
    return ck_requested;
}

// A per-thread override, so a test can run one variant while other threads keep the default.
static __thread const ck_table *ck_override;
#define ck_active (ck_override ? ck_override : ck_default)

const char *ck_variant_name(void) { return ck_active->name; }

int ck_active_simd_level(void) {
    ck_init_once();
#if defined(__x86_64__)
    if (ck_active == &ck_table_avx512) return ck_rank_levels[CK_RANK_AVX512];
    if (ck_active == &ck_table_avx2) return ck_rank_levels[CK_RANK_AVX2];
#endif
    return ck_rank_levels[CK_RANK_BASELINE];
}

int ck_force_variant(const char *name) {
    ck_init_once();
    if (name == NULL) { ck_override = NULL; return 1; }
    int rank = ck_rank_of(name);
    if (rank == CK_RANK_UNKNOWN || rank > ck_rank) return 0;
    ck_override = ck_table_of(rank);
    return 1;
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
void ck_gru_cell_forward(float *gx, const float *gh, const float *h_prev, float *h, size_t batch, size_t hidden) {
    ck_active->gru_cell_forward(gx, gh, h_prev, h, batch, hidden);
}
void ck_gru_cell_backward(float *gx, float *gh, const float *h_prev, float *dh, size_t batch, size_t hidden) {
    ck_active->gru_cell_backward(gx, gh, h_prev, dh, batch, hidden);
}

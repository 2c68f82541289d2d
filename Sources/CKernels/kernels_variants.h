// One table of function pointers per compiled variant; dispatch.c picks one before main.
#ifndef CKERNELS_VARIANTS_H
#define CKERNELS_VARIANTS_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    void (*sigmoid)(const float *, float *, size_t);
    void (*tanh)(const float *, float *, size_t);
    void (*sigmoid_backward)(const float *, const float *, float *, size_t);
    void (*tanh_backward)(const float *, const float *, float *, size_t);
    void (*softmax)(const float *, float *, size_t, size_t);
    void (*log_softmax)(const float *, float *, size_t, size_t);
    double (*softmax_xent)(const float *, const int32_t *, float *, float *, size_t, size_t, float);
    void (*lstm_cell_forward)(float *, const float *, float *, float *, size_t, size_t);
    void (*lstm_cell_backward)(float *, const float *, const float *, const float *, float *, size_t, size_t);
    double (*sum_squares)(const float *, size_t);
    void (*adam_update)(float *, const float *, float *, float *, size_t, float, float, float, float, float);
    void (*gru_cell_forward)(float *, const float *, const float *, float *, size_t, size_t);
    void (*gru_cell_backward)(float *, float *, const float *, float *, size_t, size_t);
} ck_table;

#define CK_DEFINE_TABLE(v)                                                                         \
    const ck_table ck_table_##v = {                                                                \
        #v, ck_##v##_sigmoid, ck_##v##_tanh, ck_##v##_sigmoid_backward, ck_##v##_tanh_backward,   \
        ck_##v##_softmax, ck_##v##_log_softmax, ck_##v##_softmax_xent,                            \
        ck_##v##_lstm_cell_forward, ck_##v##_lstm_cell_backward, ck_##v##_sum_squares,            \
        ck_##v##_adam_update, ck_##v##_gru_cell_forward, ck_##v##_gru_cell_backward};

#if defined(__x86_64__)
extern const ck_table ck_table_avx512;
extern const ck_table ck_table_avx2;
#endif
extern const ck_table ck_table_baseline;

// The calling thread's variant in ck_cpu_simd_level's numbers (1 AVX-512, 2 AVX2, 0 baseline): the
// process's, or the one ck_force_variant chose for this thread. The panel kernels follow it, so
// a test can run each variant's GEMM and bf16 panels on one host.
int ck_active_simd_level(void);
// Whether the panel kernels at `level` (ck_cpu_simd_level's numbers) beat OpenBLAS, so that the
// callers pack for them (ck_packed_gemm_supported is this at the process's level).
int ck_panel_kernels_fast(int level);
#endif

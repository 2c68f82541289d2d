// The packed panel kernels (recurrent_gemm.c, bf16_gemv.c) against OpenBLAS at the shapes charnn
// gives them, one thread, in the variant CHARNN_SIMD selects: the numbers behind
// ck_panel_kernels_fast's choice per instruction set (docs/simd.md).
//
//   clang -O2 -ISources/CKernels/include -ISources/CKernels scripts/packed-gemm-bench.c
//      Sources/CKernels/*.c -lopenblas -lm -lpthread -o .build/packed-gemm-bench   (one line)
//   flock /work/bench.lock .build/packed-gemm-bench
//
// Training's recurrent step per half-batch (m = 25) and whole batch (m = 50): forward
// C[m, 4H] += h[m, H] · W_hhᵀ and backward dh[m, H] = dG[m, 4H] · W_hh, through cblas_sgemm as
// LSTMLayer.swift calls it and through the packed kernel, whose packing (once per T = 50 steps,
// forward and backward) is charged to the steps. Then batch 1 (sampling, one-pass eval):
// y[4H] += W[4H, 2H] · x through cblas_sgemv, the fp32 panels and the bf16 panels.
#include "ckernels.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

extern void openblas_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);  // CPU time: the machine may be shared
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *filled(size_t n, float scale) {
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)((i * 2654435761u) % 1000) / 1000.0f - scale / 2;
    return x;
}

// Two ways of doing one thing, timed in alternating rounds (so drift and other processes hit both
// alike): best of seven rounds of `reps` calls each, in µs of this thread's CPU time per call.
#define TIME2(reps, first, second, first_us, second_us)                                            \
    do {                                                                                           \
        first_us = second_us = 1e9;                                                                \
        for (int round = 0; round < 7; round++) {                                                 \
            double t0 = now();                                                                     \
            for (int rep = 0; rep < (reps); rep++) { first; }                                      \
            double t1 = now();                                                                     \
            for (int rep = 0; rep < (reps); rep++) { second; }                                     \
            double t2 = now();                                                                     \
            if ((t1 - t0) / (reps) * 1e6 < first_us) first_us = (t1 - t0) / (reps) * 1e6;          \
            if ((t2 - t1) / (reps) * 1e6 < second_us) second_us = (t2 - t1) / (reps) * 1e6;        \
        }                                                                                          \
    } while (0)

int main(void) {
    openblas_set_num_threads(1);
    const int T = 50;
    printf("variant %s; packed_gemm_supported %d\n", ck_variant_name(), ck_packed_gemm_supported());
    printf("%-30s %12s %12s %12s %8s\n", "shape", "OpenBLAS µs", "packed µs", "(pack/T µs)", "ratio");
    int hiddens[] = {128, 256, 384, 512};
    for (int hi = 0; hi < 4; hi++) {
        size_t H = hiddens[hi], G = 4 * H;
        float *w = filled(G * H, 0.1f), *packed = malloc(ck_packed_b_floats(G, G) * sizeof(float));
        for (int mi = 0; mi < 2; mi++) {
            size_t m = mi == 0 ? 25 : 50;
            float *a = filled(m * G, 1.0f), *c = filled(m * G, 1.0f);
            int reps = (int)(1e8 / (2.0 * m * G * H)) + 1;
            // forward: C[m, 4H] += A[m, H] · W_hhᵀ
            double blas, kern, pack, unused;
            TIME2(reps,
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)G, (int)H, 1.0f, a, (int)H, w,
                              (int)H, 1.0f, c, (int)G),
                  ck_packed_gemm(a, m, H, packed, c, G, 1), blas, kern);
            TIME2(4, ck_pack_b(w, H, G, 1, H, packed), (void)0, pack, unused);
            pack /= T;
            char name[64];
            snprintf(name, sizeof name, "fwd m%zu n%zu k%zu", m, G, H);
            printf("%-30s %12.1f %12.1f %12.2f %7.2fx\n", name, blas, kern, pack, blas / (kern + pack));
            // backward: dh[m, H] = dG[m, 4H] · W_hh
            TIME2(reps,
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)H, (int)G, 1.0f, a, (int)G, w,
                              (int)H, 0.0f, c, (int)H),
                  ck_packed_gemm(a, m, G, packed, c, H, 1), blas, kern);
            TIME2(4, ck_pack_b(w, G, H, H, 1, packed), (void)0, pack, unused);
            pack /= T;
            snprintf(name, sizeof name, "bwd m%zu n%zu k%zu", m, H, G);
            printf("%-30s %12.1f %12.1f %12.2f %7.2fx\n", name, blas, kern, pack, blas / (kern + pack));
            free(a), free(c);
        }
        // batch 1: the sampler's fused [4H, 2H] layer matrix
        size_t K = 2 * H;
        float *wf = filled(G * K, 0.1f), *x = filled(K, 1.0f), *y = filled(G, 1.0f);
        float *pf = malloc(ck_packed_b_floats(K, G) * sizeof(float));
        uint16_t *ph = malloc(ck_packed_bf16_count(K, G) * sizeof(uint16_t));
        ck_pack_b(wf, K, G, 1, K, pf);
        ck_pack_b_bf16(wf, K, G, 1, K, ph);
        int reps = (int)(4e7 / (2.0 * G * K)) + 1;
        double blas, kern, half, unused;
        TIME2(reps, cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)G, (int)K, 1.0f, wf, (int)K, x, 1, 1.0f, y, 1),
              ck_packed_gemm(x, 1, K, pf, y, G, 1), blas, kern);
        TIME2(reps, ck_packed_gemv_bf16(x, K, ph, y, G, 1), (void)0, half, unused);
        char name[64];
        snprintf(name, sizeof name, "gemv n%zu k%zu (%.1f MB fp32)", G, K, G * K * 4 / 1e6);
        printf("%-30s %12.1f %12.1f %12s %7.2fx   bf16 panels %.1f µs (%.2fx)\n", name, blas, kern, "", blas / kern,
               half, blas / half);
        free(w), free(packed), free(wf), free(x), free(y), free(pf), free(ph);
    }
    return 0;
}

// What the panel kernels (recurrent_gemm.c, bf16_gemv.c) share: the panel width and, on x86-64,
// the stores that add results into C, masked where the last panel is partial: one 32-column row
// (AVX-512) or 8 columns (AVX2).
#ifndef CK_PANEL_STORE_H
#define CK_PANEL_STORE_H

#include <stddef.h>

#define NR 32

#if defined(__x86_64__)
#include <immintrin.h>

// c[0..<cols] += (lo | hi), cols ≤ 32: lo holds columns 0–15, hi 16–31.
__attribute__((target("avx512f"))) static inline void ck_add_store_row(float *c, __m512 lo, __m512 hi, size_t cols) {
    __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    _mm512_mask_storeu_ps(c, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c), lo));
    _mm512_mask_storeu_ps(c + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + 16), hi));
}

// c[0..<cols] += v, for cols of 8 columns or fewer; cols ≥ 8 stores all 8, cols ≤ 0 none.
__attribute__((target("avx2,fma"))) static inline void ck_add_store8(float *c, __m256 v, ptrdiff_t cols) {
    if (cols >= 8) {
        _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), v));
    } else if (cols > 0) {
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(c, mask, _mm256_add_ps(_mm256_maskload_ps(c, mask), v));
    }
}
#endif

#endif

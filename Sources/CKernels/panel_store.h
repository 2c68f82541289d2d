// What the panel kernels (recurrent_gemm.c, bf16_gemv.c) share: the panel width and, on x86-64,
// the store that adds one 32-column row of results into C, masked where the last panel is partial.
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
#endif

#endif

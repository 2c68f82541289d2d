// The avx512 variant of the kernels in kernels_impl.h.
#include "kernels_variants.h"
// x86-64 only: on other architectures dispatch.c uses the baseline (portable C) variant alone.
#if defined(__x86_64__)
#define CK_NAME(x) ck_avx512_##x
#define CK_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#include "kernels_impl.h"
CK_DEFINE_TABLE(avx512)
#endif

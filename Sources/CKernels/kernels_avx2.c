// The avx2 variant of the kernels in kernels_impl.h.
#include "kernels_variants.h"
#define CK_NAME(x) ck_avx2_##x
#define CK_TARGET __attribute__((target("avx2,fma")))
#include "kernels_impl.h"
CK_DEFINE_TABLE(avx2)

// The baseline variant of the kernels in kernels_impl.h.
#include "kernels_variants.h"
#define CK_NAME(x) ck_baseline_##x
#define CK_TARGET 
#include "kernels_impl.h"
CK_DEFINE_TABLE(baseline)

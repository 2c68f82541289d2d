// OpenBLAS's own cblas.h: the pkg-config include path points at Debian's OpenBLAS directory,
// so this is never the generic `blas` alternative. It also declares openblas_set_num_threads
// and openblas_get_corename.
#include <cblas.h>

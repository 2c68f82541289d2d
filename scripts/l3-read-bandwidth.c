// How fast two cores can read a buffer that fits in L3 but not in their L2s: the ceiling for
// batch-1 sampling in fp32, which reads every weight once per symbol (docs/performance.md).
//
//   clang -O2 -pthread scripts/l3-read-bandwidth.c -o .build/l3bw && .build/l3bw 13
//
// The argument is the total size in MB (13 ≈ the 2×512 model's fp32 weights); each of two threads
// sums its half with AVX-512 loads and four independent accumulators, nothing else, 400 times.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t floats_per_thread;
static const int repeats = 400;
static volatile float sink;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx512f"))) static void *read_all(void *buffer) {
    const float *p = buffer;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int r = 0; r < repeats; r++)
        for (size_t i = 0; i < floats_per_thread; i += 64) {
            a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
            a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
            a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
            a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
        }
    sink = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    return NULL;
}

int main(int argc, char **argv) {
    size_t megabytes = argc > 1 ? (size_t)atoi(argv[1]) : 13;
    if (megabytes < 1) { fprintf(stderr, "l3-read-bandwidth: size must be at least 1 MB\n"); return 64; }
    floats_per_thread = megabytes * 1024 * 1024 / sizeof(float) / 2 / 64 * 64;
    float *a = aligned_alloc(64, floats_per_thread * sizeof(float));
    float *b = aligned_alloc(64, floats_per_thread * sizeof(float));
    for (size_t i = 0; i < floats_per_thread; i++) a[i] = b[i] = 1;
    double bytes = 2.0 * floats_per_thread * sizeof(float) * repeats;
    for (int run = 0; run < 3; run++) {
        pthread_t other;
        double start = now();
        pthread_create(&other, NULL, read_all, b);
        read_all(a);
        pthread_join(other, NULL);
        printf("%zu MB on two threads: %.1f GB/s\n", megabytes, bytes / (now() - start) / 1e9);
    }
    double start = now();
    read_all(a);
    printf("%zu MB on one thread: %.1f GB/s\n", megabytes / 2, bytes / 2 / (now() - start) / 1e9);
    return 0;
}

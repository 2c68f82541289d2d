// The one second thread that two-part kernels (the packed GEMM, the threaded cell kernels) share.
#include "ckernels.h"
#include <pthread.h>
#include <stdatomic.h>

// A hint to the core that this is a spin-wait loop.
#if defined(__x86_64__)
#define ck_cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define ck_cpu_relax() __asm__ __volatile__("yield")
#else
#define ck_cpu_relax() ((void)0)
#endif

// A second thread that runs part 1 of a two-part task while the caller runs part 0. It sleeps on
// a condition variable between tasks (no busy-waiting that would steal the core from OpenBLAS),
// after a short spin that catches the back-to-back tasks of one time loop.
static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int generation;
    atomic_int done;
    atomic_int rest;  // set by ck_worker_rest: sleep now instead of spinning
    void (*task)(void *, int);
    void *context;
    int started;
} ck_worker = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

// Held by the one caller that is using the second thread; another caller meanwhile runs alone.
static pthread_mutex_t ck_worker_owner = PTHREAD_MUTEX_INITIALIZER;

static void *ck_worker_main(void *unused) {
    (void)unused;
    int seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&ck_worker.generation, memory_order_acquire) == seen) {
            if (++spins < 20000 && !atomic_load_explicit(&ck_worker.rest, memory_order_relaxed)) {
                ck_cpu_relax();
                continue;
            }
            pthread_mutex_lock(&ck_worker.lock);
            while (atomic_load_explicit(&ck_worker.generation, memory_order_acquire) == seen)
                pthread_cond_wait(&ck_worker.wake, &ck_worker.lock);
            pthread_mutex_unlock(&ck_worker.lock);
        }
        seen = atomic_load_explicit(&ck_worker.generation, memory_order_acquire);
        ck_worker.task(ck_worker.context, 1);
        atomic_store_explicit(&ck_worker.done, seen, memory_order_release);
    }
    return NULL;
}

void ck_run_in_two(void (*task)(void *, int), void *context, int threads) {
    if (threads < 2 || pthread_mutex_trylock(&ck_worker_owner) != 0) {
        task(context, 0);
        task(context, 1);
        return;
    }
    pthread_mutex_lock(&ck_worker.lock);
    if (!ck_worker.started) {
        ck_worker.started = pthread_create(&ck_worker.thread, NULL, ck_worker_main, NULL) == 0;
        if (ck_worker.started) pthread_detach(ck_worker.thread);
    }
    int started = ck_worker.started, generation = 0;
    if (started) {
        atomic_store_explicit(&ck_worker.rest, 0, memory_order_relaxed);
        ck_worker.task = task;
        ck_worker.context = context;
        generation = atomic_load_explicit(&ck_worker.generation, memory_order_relaxed) + 1;
        atomic_store_explicit(&ck_worker.generation, generation, memory_order_release);
        pthread_cond_signal(&ck_worker.wake);
    }
    pthread_mutex_unlock(&ck_worker.lock);
    task(context, 0);
    if (started) {
        while (atomic_load_explicit(&ck_worker.done, memory_order_acquire) != generation) ck_cpu_relax();
    } else {
        task(context, 1);
    }
    pthread_mutex_unlock(&ck_worker_owner);
}

// After a time loop its hand-offs are over, and the ~0.5 ms spin (20,000 pauses of ~25 ns on
// Zen 4) would hold a core that OpenBLAS's own thread needs for the batched products next.
void ck_worker_rest(void) { atomic_store_explicit(&ck_worker.rest, 1, memory_order_relaxed); }

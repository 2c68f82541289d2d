// Runs every CKernels entry point on fixed inputs and prints the results, one value per line:
//   <kernel>[<index>] <exact|approx> <value>
// scripts/check-aarch64 builds this with the C target's sources for aarch64 (run under qemu) and
// for x86-64 (run once per variant CHARNN_SIMD allows) and compares the two outputs: `exact`
// lines must match to the bit, `approx` lines within a tolerance (transcendental approximations
// and FMA contraction differ by a few ulp; sums in another order by a few more).
// Checks that need no second machine (threaded = unthreaded, CHARNN_SIMD honoured) are made
// here; a failure prints "FAIL ..." on stderr and exits with status 1.
#include "ckernels.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void fail(const char *what) {
    fprintf(stderr, "FAIL %s\n", what);
    failures++;
}

// A fixed stream of floats in [low, high): a 64-bit LCG, the same on every architecture.
static uint64_t lcg_state;
static float uniform(float low, float high) {
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return low + (high - low) * (float)(lcg_state >> 40) * (1.0f / 16777216.0f);
}
static float *random_floats(size_t n, float low, float high, uint64_t seed) {
    float *x = malloc((n ? n : 1) * sizeof(float));
    lcg_state = seed;
    for (size_t i = 0; i < n; i++) x[i] = uniform(low, high);
    return x;
}

// Nine significant digits identify a float exactly (seventeen a double), and awk reads them back.
static void print_floats(const char *name, const char *mode, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%s[%zu] %s %.9e\n", name, i, mode, (double)x[i]);
}

// (batch, hidden) with batch × hidden ≥ 4096 (the threaded split point) and odd tails.
static const size_t cell_shapes[][2] = {{64, 64}, {65, 67}, {3, 1}};

static void activations(void) {
    size_t n = 4099;
    float *x = random_floats(n, -9, 9, 1), *dy = random_floats(n, -2, 2, 2);
    float *y = malloc(n * sizeof(float)), *dx = malloc(n * sizeof(float));
    ck_sigmoid(x, y, n);
    print_floats("sigmoid", "approx", y, n);
    ck_sigmoid_backward(y, dy, dx, n);
    print_floats("sigmoid_backward", "approx", dx, n);
    ck_tanh(x, y, n);
    print_floats("tanh", "approx", y, n);
    ck_tanh_backward(y, dy, dx, n);
    print_floats("tanh_backward", "approx", dx, n);
    free(x), free(dy), free(y), free(dx);
}

static void softmaxes(void) {
    size_t rows = 64, cols = 67;
    float *x = random_floats(rows * cols, -8, 8, 3);
    float *y = malloc(rows * cols * sizeof(float)), *losses = malloc(rows * sizeof(float));
    int32_t *targets = malloc(rows * sizeof(int32_t));
    for (size_t r = 0; r < rows; r++) targets[r] = (int32_t)((r * 37 + 11) % cols);
    ck_softmax(x, y, rows, cols);
    print_floats("softmax", "approx", y, rows * cols);
    ck_log_softmax(x, y, rows, cols);
    print_floats("log_softmax", "approx", y, rows * cols);
    double total = ck_softmax_xent(x, targets, y, losses, rows, cols, 0.5f);
    print_floats("softmax_xent_grad", "approx", y, rows * cols);
    print_floats("softmax_xent_loss", "approx", losses, rows);
    printf("softmax_xent_total[0] approx %.17e\n", total);
    free(x), free(y), free(losses), free(targets);
}

static void cells(void) {
    for (size_t s = 0; s < sizeof cell_shapes / sizeof cell_shapes[0]; s++) {
        size_t batch = cell_shapes[s][0], hidden = cell_shapes[s][1], bh = batch * hidden;
        float *pre = random_floats(4 * bh, -6, 6, 10 + s), *c_prev = random_floats(bh, -3, 3, 20 + s);
        float *gates = malloc(4 * bh * sizeof(float)), *gates2 = malloc(4 * bh * sizeof(float));
        float *c = malloc(bh * sizeof(float)), *h = malloc(bh * sizeof(float));
        float *c2 = malloc(bh * sizeof(float)), *h2 = malloc(bh * sizeof(float));
        memcpy(gates, pre, 4 * bh * sizeof(float));
        memcpy(gates2, pre, 4 * bh * sizeof(float));
        ck_lstm_cell_forward(gates, c_prev, c, h, batch, hidden);
        ck_lstm_cell_forward_threaded(gates2, c_prev, c2, h2, batch, hidden, 2);
        if (memcmp(gates, gates2, 4 * bh * sizeof(float)) || memcmp(c, c2, bh * sizeof(float)) ||
            memcmp(h, h2, bh * sizeof(float)))
            fail("cell forward: two threads differ from one");
        char name[64];
        snprintf(name, sizeof name, "cell_forward_%zux%zu_gates", batch, hidden);
        print_floats(name, "approx", gates, 4 * bh);
        snprintf(name, sizeof name, "cell_forward_%zux%zu_c", batch, hidden);
        print_floats(name, "approx", c, bh);
        snprintf(name, sizeof name, "cell_forward_%zux%zu_h", batch, hidden);
        print_floats(name, "approx", h, bh);

        // Backward from the forward's activated gates and cell states.
        float *dh = random_floats(bh, -1, 1, 30 + s), *dc = random_floats(bh, -1, 1, 40 + s);
        float *dc2 = malloc(bh * sizeof(float));
        memcpy(dc2, dc, bh * sizeof(float));
        memcpy(gates2, gates, 4 * bh * sizeof(float));
        ck_lstm_cell_backward(gates, c_prev, c, dh, dc, batch, hidden);
        ck_lstm_cell_backward_threaded(gates2, c_prev, c, dh, dc2, batch, hidden, 2);
        if (memcmp(gates, gates2, 4 * bh * sizeof(float)) || memcmp(dc, dc2, bh * sizeof(float)))
            fail("cell backward: two threads differ from one");
        snprintf(name, sizeof name, "cell_backward_%zux%zu_dgates", batch, hidden);
        print_floats(name, "approx", gates, 4 * bh);
        snprintf(name, sizeof name, "cell_backward_%zux%zu_dc", batch, hidden);
        print_floats(name, "approx", dc, bh);
        free(pre), free(c_prev), free(gates), free(gates2), free(c), free(h), free(c2), free(h2);
        free(dh), free(dc), free(dc2);
    }
}

// The GRU cell: forward from random pre-activations, backward from the forward's gates.
static void gru_cells(void) {
    for (size_t s = 0; s < sizeof cell_shapes / sizeof cell_shapes[0]; s++) {
        size_t batch = cell_shapes[s][0], hidden = cell_shapes[s][1], bh = batch * hidden;
        float *gx = random_floats(3 * bh, -5, 5, 60 + s), *gh = random_floats(3 * bh, -5, 5, 70 + s);
        float *h_prev = random_floats(bh, -1, 1, 80 + s), *h = malloc(bh * sizeof(float));
        ck_gru_cell_forward(gx, gh, h_prev, h, batch, hidden);
        char name[64];
        snprintf(name, sizeof name, "gru_forward_%zux%zu_gates", batch, hidden);
        print_floats(name, "approx", gx, 3 * bh);
        snprintf(name, sizeof name, "gru_forward_%zux%zu_h", batch, hidden);
        print_floats(name, "approx", h, bh);
        float *dh = random_floats(bh, -1, 1, 90 + s);
        ck_gru_cell_backward(gx, gh, h_prev, dh, batch, hidden);
        snprintf(name, sizeof name, "gru_backward_%zux%zu_dgx", batch, hidden);
        print_floats(name, "approx", gx, 3 * bh);
        snprintf(name, sizeof name, "gru_backward_%zux%zu_dgh", batch, hidden);
        print_floats(name, "approx", gh, 3 * bh);
        snprintf(name, sizeof name, "gru_backward_%zux%zu_dh", batch, hidden);
        print_floats(name, "approx", dh, bh);
        free(gx), free(gh), free(h_prev), free(h), free(dh);
    }
}

static void optimizer(void) {
    size_t n = 4099;
    float *theta = random_floats(n, -1, 1, 50), *g = random_floats(n, -2, 2, 51);
    float *m = random_floats(n, -0.5f, 0.5f, 52), *v = random_floats(n, 0, 0.5f, 53);
    // Each square of a float is exact in double and the sixteen partial sums have a fixed order.
    printf("sum_squares[0] exact %.17e\n", ck_sum_squares(g, n));
    printf("sum_squares_tail[0] exact %.17e\n", ck_sum_squares(g, 13));
    ck_adam_update(theta, g, m, v, n, 0.9f, 0.999f, 1e-8f, 0.01f, 0.3f);
    print_floats("adam_theta", "approx", theta, n);
    print_floats("adam_m", "approx", m, n);
    print_floats("adam_v", "approx", v, n);
    free(theta), free(g), free(m), free(v);
}

static void checksums(void) {
    printf("crc32c_check[0] exact %08" PRIx32 "\n", ck_crc32c_update(0, "123456789", 9));
    if (ck_crc32c_update(0, "123456789", 9) != 0xE3069283u) fail("crc32c(\"123456789\") != 0xE3069283");
    size_t n = 1027;  // eight-byte words and a three-byte tail
    unsigned char *bytes = malloc(n);
    for (size_t i = 0; i < n; i++) bytes[i] = (unsigned char)(i * 131 + 7);
    uint32_t whole = ck_crc32c_update(0, bytes, n), parts = ck_crc32c_update(ck_crc32c_update(0, bytes, 500), bytes + 500, n - 500);
    printf("crc32c_bytes[0] exact %08" PRIx32 "\n", whole);
    if (whole != parts) fail("crc32c: continuing from a prefix differs from one pass");
    free(bytes);
}

// The panel products: fp32 (ck_packed_gemm) for m = 1, 7 and 25 rows (the m = 1 kernel; AVX2's
// row blocks of 4 + 3 and 5 × 5), and bf16 (ck_packed_gemv_bf16), each on one thread and on two,
// which must agree to the bit (the split is by whole panels).
static void panels(void) {
    size_t k = 131, n = 100, m = 25;  // k odd (bf16's unpaired row), n = 3 panels + 4 columns
    float *w = random_floats(n * k, -1, 1, 60), *a = random_floats(m * k, -1, 1, 61);
    float *packed = malloc(ck_packed_b_floats(k, n) * sizeof(float));
    ck_pack_b(w, k, n, 1, k, packed);  // B = Wᵀ, as the LSTM's forward packs it
    float *c1 = calloc(m * n, sizeof(float)), *c2 = calloc(m * n, sizeof(float));
    const size_t row_counts[] = {1, 7, 25};
    for (int i = 0; i < 3; i++) {
        size_t rows = row_counts[i];
        char name[32];
        snprintf(name, sizeof name, "packed_gemm_%zurows", rows);
        memset(c1, 0, m * n * sizeof(float));
        memset(c2, 0, m * n * sizeof(float));
        ck_packed_gemm(a, rows, k, packed, c1, n, 1);
        ck_packed_gemm(a, rows, k, packed, c2, n, 2);
        if (memcmp(c1, c2, rows * n * sizeof(float))) fail("packed gemm: two threads differ from one");
        print_floats(name, "approx", c1, rows * n);
    }
    uint16_t *half = malloc(ck_packed_bf16_count(k, n) * sizeof(uint16_t));
    ck_pack_b_bf16(w, k, n, 1, k, half);
    memset(c1, 0, n * sizeof(float));
    memset(c2, 0, n * sizeof(float));
    ck_packed_gemv_bf16(a, k, half, c1, n, 1);
    ck_packed_gemv_bf16(a, k, half, c2, n, 2);
    if (memcmp(c1, c2, n * sizeof(float))) fail("bf16 gemv: two threads differ from one");
    print_floats("bf16_gemv", "approx", c1, n);
    // Conversion: rounding to nearest even, NaN kept, widening exact.
    for (size_t i = 0; i < 64; i++) {
        uint16_t b = ck_bf16_from_float(w[i]);
        printf("bf16_round[%zu] exact %04x\n", i, b);
        printf("bf16_widen[%zu] exact %.9e\n", i, (double)ck_float_from_bf16(b));
    }
    free(w), free(a), free(packed), free(c1), free(c2), free(half);
}

// The int8 panels (ck_packed_gemv_i8): quantization, packing and the integer product are exact,
// so every variant and both architectures must give the same bits. Two operands (a fused layer's
// input and recurrent halves), k odd and not a multiple of 4, n = 3 panels + 4 columns.
static void int8_panels(void) {
    size_t k1 = 131, k2 = 66, n = 100;
    float *w1 = random_floats(n * k1, -1, 1, 70), *w2 = random_floats(n * k2, -0.3f, 0.3f, 71);
    float *x1 = random_floats(k1, -1, 1, 72), *x2 = random_floats(k2, -4, 4, 73);
    int8_t *p1 = malloc(ck_packed_i8_count(k1, n)), *p2 = malloc(ck_packed_i8_count(k2, n));
    float *s1 = malloc(128 * sizeof(float)), *s2 = malloc(128 * sizeof(float));
    ck_pack_b_i8(w1, k1, n, 1, k1, p1, s1);
    ck_pack_b_i8(w2, k2, n, 1, k2, p2, s2);
    int8_t *q1 = calloc(132, 1), *q2 = calloc(68, 1);
    ck_i8_operand ops[2] = {{q1, ck_quantize_i8(x1, k1, q1), k1, p1, s1}, {q2, ck_quantize_i8(x2, k2, q2), k2, p2, s2}};
    printf("int8_x_scale[0] exact %.9e\nint8_x_scale[1] exact %.9e\n", (double)ops[0].x_scale, (double)ops[1].x_scale);
    for (size_t i = 0; i < k1; i++) printf("int8_x[%zu] exact %d\n", i, q1[i]);
    for (size_t i = 0; i < ck_packed_i8_count(k1, n); i += 7) printf("int8_packed[%zu] exact %d\n", i, p1[i]);
    print_floats("int8_scales", "exact", s1, 128);
    float *y1 = random_floats(n, -1, 1, 74), *y2 = malloc(n * sizeof(float));
    memcpy(y2, y1, n * sizeof(float));
    ck_packed_gemv_i8(ops, 2, y1, n, 1);
    ck_packed_gemv_i8(ops, 2, y2, n, 2);
    if (memcmp(y1, y2, n * sizeof(float))) fail("int8 gemv: two threads differ from one");
    print_floats("int8_gemv", "exact", y1, n);
    ck_round_rows_i8(w1, n, k1);
    print_floats("int8_round_rows", "exact", w1, 64);
    free(w1), free(w2), free(x1), free(x2), free(p1), free(p2), free(s1), free(s2), free(q1), free(q2), free(y1), free(y2);
}

// The second thread: part 1 runs there (or on the caller if it is busy), part 0 here; both write.
static void mark_part(void *context, int part) {
    int *slots = context;
    for (int i = 0; i < 1000; i++) slots[part * 1000 + i] = part * 1000 + i;
}

static void worker(void) {
    int *slots = calloc(2000, sizeof(int));
    for (int round = 0; round < 50; round++) {
        memset(slots, 0xFF, 2000 * sizeof(int));
        ck_run_in_two(mark_part, slots, 2);
        for (int i = 0; i < 2000; i++)
            if (slots[i] != i) {
                fail("worker thread: a part did not run");
                round = 50;
                break;
            }
    }
    ck_worker_rest();
    printf("worker_rounds[0] exact 50\n");
    free(slots);
}

int main(void) {
    // The variant in use, and CHARNN_SIMD honoured when it names one this CPU runs.
    const char *requested = getenv("CHARNN_SIMD");
    fprintf(stderr, "variant %s (CPU level %d, process level %d)\n", ck_variant_name(), ck_cpu_simd_level(),
            ck_simd_level());
    if (requested && ck_simd_request() == CK_SIMD_FORCED && strcmp(requested, ck_variant_name()) != 0)
        fail("CHARNN_SIMD not in use");
    if (ck_packed_gemm_supported() != (ck_simd_level() != 0)) fail("packed GEMM on at baseline, or off above it");
    activations();
    softmaxes();
    cells();
    gru_cells();
    optimizer();
    checksums();
    panels();
    int8_panels();
    worker();
    return failures ? 1 : 0;
}

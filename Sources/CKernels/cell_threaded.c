// The LSTM cell kernels with the batch rows split across the worker thread (worker_thread.c).
#include "ckernels.h"

// The batch rows split in two, each half a call of the dispatched kernel.
typedef struct {
    float *gates;
    const float *c_prev;
    float *c;
    float *h_or_dc;
    const float *dh;
    size_t batch, hidden;
} ck_cell_task;

static void ck_cell_forward_part(void *context, int part) {
    ck_cell_task *t = context;
    size_t half = t->batch / 2, b0 = part ? half : 0, rows = part ? t->batch - half : half;
    if (rows == 0) return;
    ck_lstm_cell_forward(t->gates + b0 * 4 * t->hidden, t->c_prev + b0 * t->hidden, t->c + b0 * t->hidden,
                         t->h_or_dc + b0 * t->hidden, rows, t->hidden);
}

static void ck_cell_backward_part(void *context, int part) {
    ck_cell_task *t = context;
    size_t half = t->batch / 2, b0 = part ? half : 0, rows = part ? t->batch - half : half;
    if (rows == 0) return;
    ck_lstm_cell_backward(t->gates + b0 * 4 * t->hidden, t->c_prev + b0 * t->hidden, t->c + b0 * t->hidden,
                          t->dh + b0 * t->hidden, t->h_or_dc + b0 * t->hidden, rows, t->hidden);
}

// Splitting pays only when each half has enough work to cover the hand-off (~1-2 µs).
static int ck_cell_threads(size_t batch, size_t hidden, int threads) {
    return batch >= 2 && batch * hidden >= 4096 ? threads : 1;
}

void ck_lstm_cell_forward_threaded(float *pre, const float *c_prev, float *c, float *h, size_t batch,
                                   size_t hidden, int threads) {
    ck_cell_task task = {pre, c_prev, c, h, NULL, batch, hidden};
    ck_run_in_two(ck_cell_forward_part, &task, ck_cell_threads(batch, hidden, threads));
}

void ck_lstm_cell_backward_threaded(float *gates, const float *c_prev, const float *c, const float *dh,
                                    float *dc_next, size_t batch, size_t hidden, int threads) {
    ck_cell_task task = {gates, c_prev, (float *)c, dc_next, dh, batch, hidden};
    ck_run_in_two(ck_cell_backward_part, &task, ck_cell_threads(batch, hidden, threads));
}

import CKernels

// One LSTM layer over T steps of a batch of B streams, time-major, with PyTorch's fused weights:
//   gates_t = x_t · W_ihᵀ + b_ih + h_{t-1} · W_hhᵀ + b_hh      [B, 4H], rows [i | f | g | o]
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(c_t)
// The input projection of all T steps is one GEMM (layer 0's is a lookup in a per-symbol table,
// Embedding.swift); each step then adds one recurrent GEMM and
// runs the fused cell kernel. Backward runs the cell kernels back through time, then forms all the
// weight gradients with GEMMs over the T·B rows at once.

/// x: [T, B, I] → act.hidden[1...T]: [T, B, H], with act.hidden[0], act.cell[0] holding h0, c0.
/// x nil: act.gates already holds every step's x_t · W_ihᵀ + b_ih + b_hh (layer 0, whose input
/// projection comes from the vocabulary table, see Embedding.swift).
func lstmForward(
    x: UnsafePointer<Float>?, weights w: RecurrentWeights<UnsafePointer<Float>>, act: RecurrentActivations,
    biasScratch: UnsafeMutablePointer<Float>, packed: PackedRecurrentWeights?,
    steps T: Int, batch B: Int, input I: Int, hidden H: Int
) {
    let G = 4 * H
    if let x {
        for j in 0..<G { biasScratch[j] = w.biasIH[j] + w.biasHH[j] }
        for row in 0..<(T * B) { (act.gates + row * G).update(from: biasScratch, count: G) }
        // gates[T·B, 4H] += x[T·B, I] · W_ihᵀ
        BLAS.gemm(m: T * B, n: G, k: I, x, w.weightIH, transposeB: true, into: act.gates, beta: 1)
    }
    if let packed { PackedGEMM.pack(w.weightHH, k: H, n: G, rowStride: 1, columnStride: H, into: packed.buffer) }
    for t in 0..<T {
        let gates = act.gates + t * B * G
        // gates_t[B, 4H] += h_{t-1}[B, H] · W_hhᵀ
        if let packed {
            PackedGEMM.multiplyAdd(m: B, n: G, k: H, act.hidden + t * B * H, packed: packed.buffer, into: gates,
                                   threads: packed.threads)
        } else if B == 1 {
            // One stream (charnn eval's one pass): OpenBLAS's sgemm would repack W_hh every step.
            BLAS.gemv(rows: G, cols: H, w.weightHH, act.hidden + t * H, into: gates, beta: 1)
        } else {
            BLAS.gemm(m: B, n: G, k: H, act.hidden + t * B * H, w.weightHH, transposeB: true, into: gates, beta: 1)
        }
        ck_lstm_cell_forward_threaded(
            gates, act.cell + t * B * H, act.cell + (t + 1) * B * H, act.hidden + (t + 1) * B * H, B, H,
            Int32(packed?.threads ?? 1))
    }
    // OpenBLAS's thread takes the second core for the batched products that follow.
    ck_worker_rest()
}

/// dOut: [T, B, H] (gradient of the layer's outputs) → dx: [T, B, I]; accumulates into grads.
/// dx may share dOut's memory: dOut is read only inside the time loop, dx written after it.
/// x nil (layer 0): only dW_hh is formed here; act.gates is left holding dGates for
/// ``embeddingProjectionBackward``, which forms dW_ih, the biases and the embedding gradient.
/// dh, dc: [B, H] carry the gradient through time; on entry they hold the gradient at the final
/// state (zero in training), on exit the gradient at the initial state h0, c0.
/// act.gates is overwritten with the gate gradients (so a forward pass must precede each backward);
/// ones: at least T·B ones, for the bias sums.
func lstmBackward(
    dx: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>?,
    weights w: RecurrentWeights<UnsafePointer<Float>>, grads: RecurrentWeights<UnsafeMutablePointer<Float>>,
    act: RecurrentActivations, dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>,
    ones: UnsafePointer<Float>, packed: PackedRecurrentWeights?,
    steps T: Int, batch B: Int, input I: Int, hidden H: Int
) {
    let G = 4 * H
    let dGates = act.gates
    if let packed { PackedGEMM.pack(w.weightHH, k: G, n: H, rowStride: H, columnStride: 1, into: packed.buffer) }
    for t in stride(from: T - 1, through: 0, by: -1) {
        let dOutT = dOut + t * B * H
        for n in 0..<(B * H) { dh[n] += dOutT[n] }
        let dGatesT = dGates + t * B * G
        ck_lstm_cell_backward_threaded(dGatesT, act.cell + t * B * H, act.cell + (t + 1) * B * H, dh, dc, B, H,
                                       Int32(packed?.threads ?? 1))
        // dh_{t-1}[B, H] = dGates_t[B, 4H] · W_hh[4H, H]
        if let packed {
            dh.update(repeating: 0, count: B * H)
            PackedGEMM.multiplyAdd(m: B, n: H, k: G, dGatesT, packed: packed.buffer, into: dh, threads: packed.threads)
        } else {
            BLAS.gemm(m: B, n: H, k: G, dGatesT, w.weightHH, into: dh)
        }
    }
    ck_worker_rest()
    let rows = T * B
    // dW_hh[4H, H] += dGatesᵀ[4H, T·B] · h_{0..T-1}[T·B, H]
    BLAS.gemm(m: G, n: H, k: rows, dGates, transposeA: true, act.hidden, into: grads.weightHH, beta: 1)
    guard let x else { return }
    // dW_ih[4H, I] += dGatesᵀ[4H, T·B] · x[T·B, I]
    BLAS.gemm(m: G, n: I, k: rows, dGates, transposeA: true, x, into: grads.weightIH, beta: 1)
    // db[4H] += Σ_rows dGates: the same sum feeds both biases, which PyTorch keeps separate.
    BLAS.gemv(rows: rows, cols: G, dGates, transpose: true, ones, into: grads.biasIH, beta: 1)
    BLAS.gemv(rows: rows, cols: G, dGates, transpose: true, ones, into: grads.biasHH, beta: 1)
    // dx[T·B, I] = dGates[T·B, 4H] · W_ih[4H, I]
    BLAS.gemm(m: rows, n: I, k: G, dGates, w.weightIH, into: dx)
}

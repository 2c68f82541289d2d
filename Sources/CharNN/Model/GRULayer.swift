import CKernels

// One GRU layer (PyTorch's nn.GRU) over T steps of a batch of B streams, time-major:
//   gx_t = x_t · W_ihᵀ + b_ih,   gh_t = h_{t-1} · W_hhᵀ + b_hh      [B, 3H] each, rows [r | z | n]
//   r = σ(gx_r + gh_r),  z = σ(gx_z + gh_z),  n = tanh(gx_n + r ⊙ gh_n),  h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
// The two sides stay apart (unlike the LSTM's one sum) because r gates only gh_n. The input side of
// all T steps is one GEMM (layer 0's a lookup in the per-symbol table, Embedding.swift); each step
// forms gh_t with one recurrent GEMM and runs the fused cell kernel (ck_gru_cell_forward). Backward
// runs the cell kernels back through time, then forms the weight gradients over all T·B rows at once.

/// x: [T, B, I] → act.hidden[1...T]: [T, B, H], with act.hidden[0] holding h0.
/// x nil: act.gates already holds every step's x_t · W_ihᵀ + b_ih (layer 0, from the symbol table).
func gruForward(
    x: UnsafePointer<Float>?, weights w: RecurrentWeights<UnsafePointer<Float>>, act: RecurrentActivations,
    packed: PackedRecurrentWeights?, steps T: Int, batch B: Int, input I: Int, hidden H: Int
) {
    let G = 3 * H
    if let x {
        for row in 0..<(T * B) { (act.gates + row * G).update(from: w.biasIH, count: G) }
        // gx[T·B, 3H] += x[T·B, I] · W_ihᵀ
        BLAS.gemm(m: T * B, n: G, k: I, x, w.weightIH, transposeB: true, into: act.gates, beta: 1)
    }
    if let packed { PackedGEMM.pack(w.weightHH, k: H, n: G, rowStride: 1, columnStride: H, into: packed.buffer) }
    for t in 0..<T {
        let gh = act.hiddenGates + t * B * G, hPrev = act.hidden + t * B * H
        for b in 0..<B { (gh + b * G).update(from: w.biasHH, count: G) }
        // gh_t[B, 3H] += h_{t-1}[B, H] · W_hhᵀ
        if let packed {
            PackedGEMM.multiplyAdd(m: B, n: G, k: H, hPrev, packed: packed.buffer, into: gh, threads: packed.threads)
        } else if B == 1 {
            BLAS.gemv(rows: G, cols: H, w.weightHH, hPrev, into: gh, beta: 1)
        } else {
            BLAS.gemm(m: B, n: G, k: H, hPrev, w.weightHH, transposeB: true, into: gh, beta: 1)
        }
        ck_gru_cell_forward(act.gates + t * B * G, gh, hPrev, act.hidden + (t + 1) * B * H, B, H)
    }
    ck_worker_rest()
}

/// dOut: [T, B, H] (gradient of the layer's outputs) → dx: [T, B, I]; accumulates into grads.
/// dx may share dOut's memory: dOut is read only inside the time loop, dx written after it.
/// x nil (layer 0): dW_hh and b_hh's gradient are formed here; act.gates is left holding the input
/// side's gradient for ``embeddingProjectionBackward``, which forms dW_ih, b_ih's and the embedding's.
/// dh: [B, H] carries the gradient through time: on entry the gradient at the final state (zero in
/// training), on exit the gradient at h0. act.gates and act.hiddenGates are overwritten with their
/// gradients (so a forward pass must precede each backward); ones: at least T·B ones.
func gruBackward(
    dx: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>?,
    weights w: RecurrentWeights<UnsafePointer<Float>>, grads: RecurrentWeights<UnsafeMutablePointer<Float>>,
    act: RecurrentActivations, dh: UnsafeMutablePointer<Float>, ones: UnsafePointer<Float>,
    packed: PackedRecurrentWeights?, steps T: Int, batch B: Int, input I: Int, hidden H: Int
) {
    let G = 3 * H
    let dGx = act.gates, dGh = act.hiddenGates
    if let packed { PackedGEMM.pack(w.weightHH, k: G, n: H, rowStride: H, columnStride: 1, into: packed.buffer) }
    for t in stride(from: T - 1, through: 0, by: -1) {
        let dOutT = dOut + t * B * H
        for n in 0..<(B * H) { dh[n] += dOutT[n] }
        let dGhT = dGh + t * B * G
        // dh becomes z ⊙ dh, the part that reaches h_{t-1} directly.
        ck_gru_cell_backward(dGx + t * B * G, dGhT, act.hidden + t * B * H, dh, B, H)
        // dh_{t-1}[B, H] += dGh_t[B, 3H] · W_hh[3H, H]
        if let packed {
            PackedGEMM.multiplyAdd(m: B, n: H, k: G, dGhT, packed: packed.buffer, into: dh, threads: packed.threads)
        } else {
            BLAS.gemm(m: B, n: H, k: G, dGhT, w.weightHH, into: dh, beta: 1)
        }
    }
    ck_worker_rest()
    let rows = T * B
    // dW_hh[3H, H] += dGhᵀ[3H, T·B] · h_{0..T-1}[T·B, H];  db_hh[3H] += Σ_rows dGh
    BLAS.gemm(m: G, n: H, k: rows, dGh, transposeA: true, act.hidden, into: grads.weightHH, beta: 1)
    BLAS.gemv(rows: rows, cols: G, dGh, transpose: true, ones, into: grads.biasHH, beta: 1)
    guard let x else { return }
    // dW_ih[3H, I] += dGxᵀ[3H, T·B] · x[T·B, I];  db_ih[3H] += Σ_rows dGx
    BLAS.gemm(m: G, n: I, k: rows, dGx, transposeA: true, x, into: grads.weightIH, beta: 1)
    BLAS.gemv(rows: rows, cols: G, dGx, transpose: true, ones, into: grads.biasIH, beta: 1)
    // dx[T·B, I] = dGx[T·B, 3H] · W_ih[3H, I]
    BLAS.gemm(m: rows, n: I, k: G, dGx, w.weightIH, into: dx)
}

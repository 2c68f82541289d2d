import CKernels

// One vanilla RNN layer (PyTorch's nn.RNN, nonlinearity tanh) over T steps of a batch of B streams:
//   h_t = tanh(x_t · W_ihᵀ + b_ih + h_{t-1} · W_hhᵀ + b_hh)      [B, H]
// The LSTM's scheme with one gate block: the input projection of all T steps is one GEMM (layer 0's
// a lookup in the per-symbol table), each step adds one recurrent GEMM and applies the SIMD tanh
// kernel; backward runs tanh's backward kernel through time, then forms the weight gradients at once.

/// x: [T, B, I] → act.hidden[1...T]: [T, B, H], with act.hidden[0] holding h0.
/// x nil: act.gates already holds every step's x_t · W_ihᵀ + b_ih + b_hh (layer 0).
func rnnForward(
    x: UnsafePointer<Float>?, weights w: RecurrentWeights<UnsafePointer<Float>>, act: RecurrentActivations,
    biasScratch: UnsafeMutablePointer<Float>, packed: PackedRecurrentWeights?,
    steps T: Int, batch B: Int, input I: Int, hidden H: Int
) {
    if let x {
        for j in 0..<H { biasScratch[j] = w.biasIH[j] + w.biasHH[j] }
        for row in 0..<(T * B) { (act.gates + row * H).update(from: biasScratch, count: H) }
        // pre[T·B, H] += x[T·B, I] · W_ihᵀ
        BLAS.gemm(m: T * B, n: H, k: I, x, w.weightIH, transposeB: true, into: act.gates, beta: 1)
    }
    if let packed { PackedGEMM.pack(w.weightHH, k: H, n: H, rowStride: 1, columnStride: H, into: packed.buffer) }
    for t in 0..<T {
        let pre = act.gates + t * B * H, hPrev = act.hidden + t * B * H
        // pre_t[B, H] += h_{t-1}[B, H] · W_hhᵀ
        if let packed {
            PackedGEMM.multiplyAdd(m: B, n: H, k: H, hPrev, packed: packed.buffer, into: pre, threads: packed.threads)
        } else if B == 1 {
            BLAS.gemv(rows: H, cols: H, w.weightHH, hPrev, into: pre, beta: 1)
        } else {
            BLAS.gemm(m: B, n: H, k: H, hPrev, w.weightHH, transposeB: true, into: pre, beta: 1)
        }
        ck_tanh(pre, act.hidden + (t + 1) * B * H, B * H)
    }
    ck_worker_rest()
}

/// dOut: [T, B, H] → dx: [T, B, I] (may share dOut's memory); accumulates into grads. x nil
/// (layer 0): only dW_hh is formed here; act.gates is left holding dPre for
/// ``embeddingProjectionBackward``. dh: [B, H], the gradient at the final state on entry, at h0 on
/// exit. act.gates is overwritten with the pre-activation gradients; ones: at least T·B ones.
func rnnBackward(
    dx: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>?,
    weights w: RecurrentWeights<UnsafePointer<Float>>, grads: RecurrentWeights<UnsafeMutablePointer<Float>>,
    act: RecurrentActivations, dh: UnsafeMutablePointer<Float>, ones: UnsafePointer<Float>,
    packed: PackedRecurrentWeights?, steps T: Int, batch B: Int, input I: Int, hidden H: Int
) {
    let dPre = act.gates
    if let packed { PackedGEMM.pack(w.weightHH, k: H, n: H, rowStride: H, columnStride: 1, into: packed.buffer) }
    for t in stride(from: T - 1, through: 0, by: -1) {
        let dOutT = dOut + t * B * H
        for n in 0..<(B * H) { dh[n] += dOutT[n] }
        let dPreT = dPre + t * B * H
        // dPre_t = dh ⊙ (1 − h_t²)
        ck_tanh_backward(act.hidden + (t + 1) * B * H, dh, dPreT, B * H)
        // dh_{t-1}[B, H] = dPre_t[B, H] · W_hh[H, H]
        if let packed {
            dh.update(repeating: 0, count: B * H)
            PackedGEMM.multiplyAdd(m: B, n: H, k: H, dPreT, packed: packed.buffer, into: dh, threads: packed.threads)
        } else {
            BLAS.gemm(m: B, n: H, k: H, dPreT, w.weightHH, into: dh)
        }
    }
    ck_worker_rest()
    let rows = T * B
    // dW_hh[H, H] += dPreᵀ[H, T·B] · h_{0..T-1}[T·B, H]
    BLAS.gemm(m: H, n: H, k: rows, dPre, transposeA: true, act.hidden, into: grads.weightHH, beta: 1)
    guard let x else { return }
    // dW_ih[H, I] += dPreᵀ · x;  both biases += Σ_rows dPre;  dx[T·B, I] = dPre · W_ih
    BLAS.gemm(m: H, n: I, k: rows, dPre, transposeA: true, x, into: grads.weightIH, beta: 1)
    BLAS.gemv(rows: rows, cols: H, dPre, transpose: true, ones, into: grads.biasIH, beta: 1)
    BLAS.gemv(rows: rows, cols: H, dPre, transpose: true, ones, into: grads.biasHH, beta: 1)
    BLAS.gemm(m: rows, n: I, k: H, dPre, w.weightIH, into: dx)
}

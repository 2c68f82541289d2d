import CKernels

// The output head: logits = y · Wᵀ + b over the vocabulary, then softmax cross-entropy against
// the next symbol. Loss is the mean over all N = T·B positions, as PyTorch's F.cross_entropy.

/// logits[N, V] = y[N, H] · W[V, H]ᵀ + b[V]
func headForward(
    logits: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, rows N: Int, hidden H: Int, vocabulary V: Int
) {
    for n in 0..<N { (logits + n * V).update(from: bias, count: V) }
    BLAS.gemm(m: N, n: V, k: H, y, weight, transposeB: true, into: logits, beta: 1)
}

/// Mean cross-entropy of logits[N, V] against targets[N]; overwrites logits with dLoss/dLogits.
/// rowLosses: [N]. Returns the mean loss (accumulated in Double).
func crossEntropyForwardBackward(
    logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rowLosses: UnsafeMutablePointer<Float>,
    rows N: Int, vocabulary V: Int
) -> Double {
    let sum = ck_softmax_xent(logits, targets, logits, rowLosses, N, V, 1 / Float(N))
    return sum / Double(N)
}

/// dLogits[N, V] → dW[V, H] += dLogitsᵀ · y,  db[V] += Σ_n dLogits,  dy[N, H] = dLogits · W
func headBackward(
    dy: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
    dLogits: UnsafePointer<Float>, y: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    ones: UnsafePointer<Float>, rows N: Int, hidden H: Int, vocabulary V: Int
) {
    BLAS.gemm(m: V, n: H, k: N, dLogits, transposeA: true, y, into: dWeight, beta: 1)
    BLAS.gemv(rows: N, cols: V, dLogits, transpose: true, ones, into: dBias, beta: 1)
    BLAS.gemm(m: N, n: H, k: V, dLogits, weight, into: dy)
}

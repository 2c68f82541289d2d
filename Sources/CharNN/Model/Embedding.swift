// The embedding layer, fused with the first recurrent layer's input projection (G·H columns, G the
// cell's gate count; the GRU keeps b_hh out of it, since its n gate scales the hidden side by r).
//
// Layer 0's input at every position is one of V embedding rows, so its input projection
// x_n · W_ihᵀ + b is one of V rows of the table P = E · W_ihᵀ + b. Forming P takes V·E·4H
// multiply-adds where projecting every position took N·E·4H (N = T·B = 5,000 against V = 65 on
// tinyshakespeare), and grouping the gate gradients by symbol the same way turns backward's three
// N-row products (dW_ih, the bias sums, the embedding gradient through dx) into V-row ones.

/// P[V, G] = table[V, E] · W_ihᵀ[E, G] + b_ih (+ b_hh when given): layer 0's gate input for each
/// symbol; G = gateRows.
func symbolGateTable(
    _ P: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, weightIH: UnsafePointer<Float>,
    biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>?, vocabulary V: Int, embedding E: Int, gateRows G: Int
) {
    if let biasHH {
        for j in 0..<G { P[j] = biasIH[j] + biasHH[j] }
    } else {
        P.update(from: biasIH, count: G)
    }
    for v in 1..<V { (P + v * G).update(from: P, count: G) }
    BLAS.gemm(m: V, n: G, k: E, table, weightIH, transposeB: true, into: P, beta: 1)
}

/// gates[n, :] = P[tokens[n], :] with P from ``symbolGateTable``.
/// tokens: [N], gates: [N, G]; `vocabularyGates` is P's scratch [V, G].
func embeddingProjectionForward(
    gates: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, count N: Int,
    table: UnsafePointer<Float>, weightIH: UnsafePointer<Float>, biasIH: UnsafePointer<Float>,
    biasHH: UnsafePointer<Float>?, vocabularyGates P: UnsafeMutablePointer<Float>,
    vocabulary V: Int, embedding E: Int, gateRows G: Int
) {
    symbolGateTable(P, table: table, weightIH: weightIH, biasIH: biasIH, biasHH: biasHH, vocabulary: V, embedding: E, gateRows: G)
    for n in 0..<N { (gates + n * G).update(from: P + Int(tokens[n]) * G, count: G) }
}

/// From layer 0's gate gradients dGates [N, G]: S[V, G] = Σ_n onehot(tokens[n]) ⊗ dGates[n, :],
/// then dW_ih[G, E] += Sᵀ · table, db_ih (and db_hh when given: the biases the table summed)
/// += Σ_v S[v, :], dTable[V, E] += S · W_ih. `vocabularyGates` is S's scratch [V, G].
func embeddingProjectionBackward(
    dGates: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, count N: Int,
    table: UnsafePointer<Float>, weightIH: UnsafePointer<Float>,
    dTable: UnsafeMutablePointer<Float>, dWeightIH: UnsafeMutablePointer<Float>,
    dBiasIH: UnsafeMutablePointer<Float>, dBiasHH: UnsafeMutablePointer<Float>?,
    vocabularyGates S: UnsafeMutablePointer<Float>, vocabulary V: Int, embedding E: Int, gateRows G: Int
) {
    S.update(repeating: 0, count: V * G)
    for n in 0..<N {
        let row = S + Int(tokens[n]) * G, source = dGates + n * G
        for j in 0..<G { row[j] += source[j] }
    }
    for v in 0..<V {
        let row = S + v * G
        for j in 0..<G { dBiasIH[j] += row[j] }
        if let dBiasHH { for j in 0..<G { dBiasHH[j] += row[j] } }
    }
    BLAS.gemm(m: G, n: E, k: V, S, transposeA: true, table, into: dWeightIH, beta: 1)
    BLAS.gemm(m: V, n: E, k: G, S, weightIH, into: dTable, beta: 1)
}

// The embedding layer, fused with the first LSTM layer's input projection.
//
// Layer 0's input at every position is one of V embedding rows, so its input projection
// x_n · W_ihᵀ + b is one of V rows of the table P = E · W_ihᵀ + b. Forming P takes V·E·4H
// multiply-adds where projecting every position took N·E·4H (N = T·B = 5,000 against V = 65 on
// tinyshakespeare), and grouping the gate gradients by symbol the same way turns backward's three
// N-row products (dW_ih, the bias sums, the embedding gradient through dx) into V-row ones.

/// P[V, 4H] = table[V, E] · W_ihᵀ[E, 4H] + b_ih + b_hh: layer 0's gate input for each symbol.
func symbolGateTable(
    _ P: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, weightIH: UnsafePointer<Float>,
    biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>, vocabulary V: Int, embedding E: Int, hidden H: Int
) {
    let G = 4 * H
    for j in 0..<G { P[j] = biasIH[j] + biasHH[j] }
    for v in 1..<V { (P + v * G).update(from: P, count: G) }
    BLAS.gemm(m: V, n: G, k: E, table, weightIH, transposeB: true, into: P, beta: 1)
}

/// gates[n, :] = P[tokens[n], :] with P from ``symbolGateTable``.
/// tokens: [N], gates: [N, 4H]; `vocabularyGates` is P's scratch [V, 4H].
func embeddingProjectionForward(
    gates: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, count N: Int,
    table: UnsafePointer<Float>, weightIH: UnsafePointer<Float>, biasIH: UnsafePointer<Float>,
    biasHH: UnsafePointer<Float>, vocabularyGates P: UnsafeMutablePointer<Float>,
    vocabulary V: Int, embedding E: Int, hidden H: Int
) {
    let G = 4 * H
    symbolGateTable(P, table: table, weightIH: weightIH, biasIH: biasIH, biasHH: biasHH, vocabulary: V, embedding: E, hidden: H)
    for n in 0..<N { (gates + n * G).update(from: P + Int(tokens[n]) * G, count: G) }
}

/// From layer 0's gate gradients dGates [N, 4H]: S[V, 4H] = Σ_n onehot(tokens[n]) ⊗ dGates[n, :],
/// then dW_ih[4H, E] += Sᵀ · table, db_ih and db_hh += Σ_v S[v, :], dTable[V, E] += S · W_ih.
/// `vocabularyGates` is S's scratch [V, 4H].
func embeddingProjectionBackward(
    dGates: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, count N: Int,
    table: UnsafePointer<Float>, weightIH: UnsafePointer<Float>,
    dTable: UnsafeMutablePointer<Float>, dWeightIH: UnsafeMutablePointer<Float>,
    dBiasIH: UnsafeMutablePointer<Float>, dBiasHH: UnsafeMutablePointer<Float>,
    vocabularyGates S: UnsafeMutablePointer<Float>, vocabulary V: Int, embedding E: Int, hidden H: Int
) {
    let G = 4 * H
    S.update(repeating: 0, count: V * G)
    for n in 0..<N {
        let row = S + Int(tokens[n]) * G, source = dGates + n * G
        for j in 0..<G { row[j] += source[j] }
    }
    for v in 0..<V {
        let row = S + v * G
        for j in 0..<G {
            dBiasIH[j] += row[j]
            dBiasHH[j] += row[j]
        }
    }
    BLAS.gemm(m: G, n: E, k: V, S, transposeA: true, table, into: dWeightIH, beta: 1)
    BLAS.gemm(m: V, n: E, k: G, S, weightIH, into: dTable, beta: 1)
}

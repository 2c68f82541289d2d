// The embedding layer: a table lookup forward, a scatter-add backward.

/// out[n, :] = table[tokens[n], :]                     tokens: [N], table: [V, E], out: [N, E]
func embeddingForward(
    out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, table: UnsafePointer<Float>,
    count: Int, width: Int
) {
    for n in 0..<count {
        (out + n * width).update(from: table + Int(tokens[n]) * width, count: width)
    }
}

/// dTable[tokens[n], :] += dOut[n, :]                  tokens: [N], dOut: [N, E], dTable: [V, E]
func embeddingBackward(
    dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, tokens: UnsafePointer<Int32>,
    count: Int, width: Int
) {
    for n in 0..<count {
        let row = dTable + Int(tokens[n]) * width
        let src = dOut + n * width
        for j in 0..<width { row[j] += src[j] }
    }
}

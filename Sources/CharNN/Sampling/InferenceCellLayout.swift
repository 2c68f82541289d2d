import CKernels

// How each cell's batch-1 step is laid out in InferenceStep's fused products: per layer one matrix
// over the input row [x | h_prev] (layer 0: [h_prev], its x-side coming from the symbol table).
//
// LSTM and RNN sum both sides before the nonlinearity, so row r of the matrix is simply
// [W_ih row r | W_hh row r] and a gates row has G·H columns. The GRU's n gate multiplies only the
// hidden side by r, so its two n halves must stay apart: a gates row is [r | z | h_n | x_n] (4H),
// with matrix rows [W_ir | W_hr], [W_iz | W_hz], [0 | W_hn], [W_in | 0] above layer 0. At layer 0
// the product fills only [r | z | h_n] (3H rows of W_hh, no zero block) and x_n comes straight
// from the symbol table into a buffer of its own.
enum InferenceCellLayout {
    /// Columns of one stream's gates row (and of a symbol-table row): 4H for the GRU, else G·H.
    static func gateWidth(_ c: ModelConfig) -> Int { c.cell == .gru ? 4 * c.hiddenSize : c.gateRows }

    /// Rows of layer k's fused matrix, i.e. the columns its product writes per stream.
    static func fusedRows(_ c: ModelConfig, layer k: Int) -> Int {
        c.cell == .gru && k == 0 ? 3 * c.hiddenSize : gateWidth(c)
    }

    /// Fills layer k's fused matrix, row-major [fusedRows, I + H] (I = its fused input width).
    static func fillMatrix(_ m: UnsafeMutablePointer<Float>, config c: ModelConfig, layout: ParameterLayout,
                           values v: UnsafePointer<Float>, layer k: Int, inputWidth I: Int) {
        let H = c.hiddenSize, W = I + H, ih = v + layout.weightIH[k].offset, hh = v + layout.weightHH[k].offset
        let rows = fusedRows(c, layer: k)
        m.initialize(repeating: 0, count: rows * W)
        for row in 0..<rows {
            // The source row of W_ih and of W_hh for this fused row (nil: that side is zero).
            let (ihRow, hhRow): (Int?, Int?) = switch (c.cell, row / H) {
            case (.gru, 2): (nil, row)          // h_n: W_hn only
            case (.gru, 3): (row - H, nil)      // x_n: W_in only
            default: (row, row)
            }
            if let ihRow { (m + row * W).update(from: ih + ihRow * I, count: I) }
            if let hhRow { (m + row * W + I).update(from: hh + hhRow * H, count: H) }
        }
    }

    /// Layer k's (k > 0) bias, [gateWidth]: b_ih + b_hh, or the GRU's [b_ir + b_hr | b_iz + b_hz | b_hn | b_in].
    static func fillBias(_ b: UnsafeMutablePointer<Float>, config c: ModelConfig, layout: ParameterLayout,
                         values v: UnsafePointer<Float>, layer k: Int) {
        let H = c.hiddenSize, bih = v + layout.biasIH[k].offset, bhh = v + layout.biasHH[k].offset
        guard c.cell == .gru else {
            for j in 0..<c.gateRows { b[j] = bih[j] + bhh[j] }
            return
        }
        for j in 0..<(2 * H) { b[j] = bih[j] + bhh[j] }
        (b + 2 * H).update(from: bhh + 2 * H, count: H)
        (b + 3 * H).update(from: bih + 2 * H, count: H)
    }

    /// The symbol table [V, gateWidth]: each symbol's layer-0 x-side with the biases, as a gates row
    /// starts (the GRU's [x_r + b_ir + b_hr | x_z + b_iz + b_hz | b_hn | x_n + b_in]).
    static func fillSymbolTable(_ t: UnsafeMutablePointer<Float>, config c: ModelConfig, layout: ParameterLayout,
                                values v: UnsafePointer<Float>) {
        let V = c.vocabularySize, H = c.hiddenSize, E = c.embeddingSize
        let table = v + layout.embedding.offset, wih = v + layout.weightIH[0].offset
        let bih = v + layout.biasIH[0].offset, bhh = v + layout.biasHH[0].offset
        guard c.cell == .gru else {
            symbolGateTable(t, table: table, weightIH: wih, biasIH: bih, biasHH: bhh, vocabulary: V, embedding: E, gateRows: c.gateRows)
            return
        }
        let x = UnsafeMutablePointer<Float>.allocate(capacity: V * 3 * H)
        defer { x.deallocate() }
        symbolGateTable(x, table: table, weightIH: wih, biasIH: bih, biasHH: nil, vocabulary: V, embedding: E, gateRows: 3 * H)
        for s in 0..<V {
            let row = t + s * 4 * H, xs = x + s * 3 * H
            for j in 0..<(2 * H) { row[j] = xs[j] + bhh[j] }
            (row + 2 * H).update(from: bhh + 2 * H, count: H)
            (row + 3 * H).update(from: xs + 2 * H, count: H)
        }
    }

    /// One GRU step for N streams from gates rows [r | z | h_n | ·] (stride `stride`) and x_n
    /// (stride `xnStride`): h [N, H] from h_prev (stride `hStride`). `scratch` [6H] holds one stream's
    /// [r | z | x_n] and [0 | 0 | h_n], the layout ck_gru_cell_forward reads; its middle zeros stay zero.
    static func gruStep(gates: UnsafePointer<Float>, stride: Int, xn: UnsafePointer<Float>, xnStride: Int,
                        hPrev: UnsafePointer<Float>, hStride: Int, h: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, streams N: Int, hidden H: Int) {
        let gx = scratch, gh = scratch + 3 * H
        for n in 0..<N {
            let row = gates + n * stride
            gx.update(from: row, count: 2 * H)
            (gx + 2 * H).update(from: xn + n * xnStride, count: H)
            (gh + 2 * H).update(from: row + 2 * H, count: H)
            ck_gru_cell_forward(gx, gh, hPrev + n * hStride, h + n * H, 1, H)
        }
    }
}

import CKernels

/// The matrices of an ``InferenceStep`` in ``SamplingPrecision/int8``: each layer's fused
/// [W_ih | W_hh] matrix (as ``InferenceCellLayout`` lays it out for the cell; layer 0's is W_hh
/// alone, its input coming from the symbol table) and the head, packed as int8 panels with one scale
/// per output row (int8_gemv.c). Each product rounds its input vectors to int8 first, one scale per
/// vector, and sums integer dot products.
///
/// The input and hidden halves of a fused row keep scales of their own, as the rows of W_ih and
/// W_hh do in ``SamplingPrecision/applied(to:)`` (a fused row would take the larger row's), so one
/// layer's gates are two operands per stream of one ``ck_packed_gemm_i8`` call, which takes every
/// stream of the step at once.
final class Int8StepWeights {
    /// One packed matrix B = Wᵀ [k, n] with its n scales (padded to the panel width).
    private struct Matrix {
        let packed: UnsafeMutablePointer<Int8>
        let scales: UnsafeMutablePointer<Float>
        let k: Int

        /// W's rows n, each k weights, the next row `rowStride` floats on.
        init(_ weights: UnsafePointer<Float>, rows n: Int, columns k: Int, rowStride: Int) {
            packed = .allocate(capacity: ck_packed_i8_count(k, n))
            scales = .allocate(capacity: (n + 31) / 32 * 32)
            self.k = k
            // W [n, k] is B [k, n] with element (kk, j) at j · rowStride + kk.
            ck_pack_b_i8(weights, k, n, 1, rowStride, packed, scales)
        }

        func free() {
            packed.deallocate()
            scales.deallocate()
        }
    }

    private let recurrent: [Matrix]  // per layer, the hidden half (W_hh's rows)
    private let input: [Matrix?]     // per layer, the input half (W_ih's rows; nil for layer 0)
    private let gateRows: [Int]      // per layer, the fused matrix's rows
    private let head: Matrix
    /// The two vectors per stream of one product, rounded: each at most max(H, I) bytes padded to a
    /// multiple of 4 and zero past its length (the kernel reads whole groups of four).
    private let quantized: UnsafeMutablePointer<Int8>
    private let slot: Int
    private let streams: Int
    /// The two operands per stream of a layer's product, kept here so a step allocates nothing.
    private let operands: UnsafeMutablePointer<ck_i8_operand>

    /// `fused[k]`: layer k's row-major [R, I + H] matrix (I = 0 for layer 0), unrounded, with its R
    /// and I; `headWeight`: [V, H]; `streams`: the most rows a product takes. Packing rounds each
    /// half-row as ``SamplingPrecision/applied(to:)``.
    init(fused: [(matrix: UnsafePointer<Float>, rows: Int, inputWidth: Int)], hidden H: Int,
         headWeight: UnsafePointer<Float>, vocabulary V: Int, streams: Int) {
        var recurrent: [Matrix] = [], input: [Matrix?] = []
        var widest = H
        for layer in fused {
            let I = layer.inputWidth, W = I + H
            recurrent.append(Matrix(layer.matrix + I, rows: layer.rows, columns: H, rowStride: W))
            input.append(I == 0 ? nil : Matrix(layer.matrix, rows: layer.rows, columns: I, rowStride: W))
            widest = max(widest, I)
        }
        self.recurrent = recurrent
        self.input = input
        gateRows = fused.map(\.rows)
        head = Matrix(headWeight, rows: V, columns: H, rowStride: H)
        slot = (widest + 3) / 4 * 4
        self.streams = max(1, streams)
        quantized = .allocate(capacity: 2 * slot * self.streams)
        quantized.initialize(repeating: 0, count: 2 * slot * self.streams)
        operands = .allocate(capacity: 2 * self.streams)
    }

    deinit {
        for m in recurrent { m.free() }
        for m in input { m?.free() }
        head.free()
        quantized.deallocate()
        operands.deallocate()
    }

    /// gates[n, R] += [x | h]_n · fusedᵀ for the first `rows` streams of layer `layer`: stream n's
    /// [x | h] row (layer 0: h alone) at `fused` + n · `fusedStride`, its gates at `gates` + n · R.
    //  fused: [rows, fusedStride], gates: [rows, R]
    func addGates(layer: Int, fused: UnsafePointer<Float>, fusedStride: Int, rows: Int,
                  into gates: UnsafeMutablePointer<Float>, threads: Int) {
        precondition(rows >= 1 && rows <= streams)
        // Per stream, the input half's operand (layers past 0) and then the hidden half's; no
        // array is built here, as this runs for every layer of every step.
        let ih = input[layer], count = ih == nil ? 1 : 2
        for n in 0..<rows {
            let row = fused + n * fusedStride, last = n * count + count - 1
            if let ih { operands[n * count] = operand(ih, row, into: n * count) }
            operands[last] = operand(recurrent[layer], row + (ih?.k ?? 0), into: last)
        }
        ck_packed_gemm_i8(operands, count, rows, gates, gateRows[layer], gateRows[layer], Int32(threads))
    }

    /// logits[n, V] += h_n · W_headᵀ for the first `rows` streams.   hidden: [rows, H], logits: [rows, V]
    func addLogits(hidden: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>, vocabulary V: Int,
                   threads: Int) {
        precondition(rows >= 1 && rows <= streams)
        for n in 0..<rows { operands[n] = operand(head, hidden + n * head.k, into: n) }
        ck_packed_gemm_i8(operands, 1, rows, logits, V, V, Int32(threads))
    }

    /// x rounded into quantized slot `index`, as the operand that multiplies `matrix`.
    private func operand(_ matrix: Matrix, _ x: UnsafePointer<Float>, into index: Int) -> ck_i8_operand {
        let destination = quantized + index * slot
        let scale = ck_quantize_i8(x, matrix.k, destination)
        return ck_i8_operand(x: destination, x_scale: scale, k: matrix.k, packed: matrix.packed, scales: matrix.scales)
    }
}

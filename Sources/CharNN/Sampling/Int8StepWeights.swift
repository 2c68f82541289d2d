import CKernels

/// The matrices of an ``InferenceStep`` in ``SamplingPrecision/int8``: each layer's fused
/// [W_ih | W_hh] matrix (as ``InferenceCellLayout`` lays it out for the cell; layer 0's is W_hh
/// alone, its input coming from the symbol table) and the head, packed as int8 panels with one scale
/// per output row (int8_gemv.c). Each product rounds its input vectors to int8 first, one scale per
/// vector, and sums integer dot products.
///
/// The input and hidden halves of a fused row keep scales of their own, as the rows of W_ih and
/// W_hh do in ``SamplingPrecision/applied(to:)`` (a fused row would take the larger row's), so one
/// layer's gates are two operands of one ``ck_packed_gemv_i8`` call.
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
    /// The two vectors of one product, rounded: each at most max(H, I) bytes padded to a multiple of
    /// 4 and zero past its length (the kernel reads whole groups of four).
    private let quantized: UnsafeMutablePointer<Int8>
    private let slot: Int
    /// The two operands of a layer's product, kept here so a step allocates nothing.
    private let operands: UnsafeMutablePointer<ck_i8_operand>

    /// `fused[k]`: layer k's row-major [R, I + H] matrix (I = 0 for layer 0), unrounded, with its R
    /// and I; `headWeight`: [V, H]. Packing rounds each half-row as ``SamplingPrecision/applied(to:)``.
    init(fused: [(matrix: UnsafePointer<Float>, rows: Int, inputWidth: Int)], hidden H: Int,
         headWeight: UnsafePointer<Float>, vocabulary V: Int) {
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
        quantized = .allocate(capacity: 2 * slot)
        quantized.initialize(repeating: 0, count: 2 * slot)
        operands = .allocate(capacity: 2)
    }

    deinit {
        for m in recurrent { m.free() }
        for m in input { m?.free() }
        head.free()
        quantized.deallocate()
        operands.deallocate()
    }

    /// gates[R] += [x | h] · fusedᵀ for one stream of layer `layer`; `fused` is that stream's
    /// [x | h] row (layer 0: h alone).
    func addGates(layer: Int, fused: UnsafePointer<Float>, into gates: UnsafeMutablePointer<Float>, threads: Int) {
        let hh = recurrent[layer]
        if let ih = input[layer] {
            operands[0] = operand(ih, fused, into: 0)
            operands[1] = operand(hh, fused + ih.k, into: 1)
            ck_packed_gemv_i8(operands, 2, gates, gateRows[layer], Int32(threads))
        } else {
            var only = operand(hh, fused, into: 0)
            ck_packed_gemv_i8(&only, 1, gates, gateRows[layer], Int32(threads))
        }
    }

    /// logits[V] += h · W_headᵀ for one stream.
    func addLogits(hidden: UnsafePointer<Float>, into logits: UnsafeMutablePointer<Float>, vocabulary V: Int, threads: Int) {
        var only = operand(head, hidden, into: 0)
        ck_packed_gemv_i8(&only, 1, logits, V, Int32(threads))
    }

    /// x rounded into quantized slot `index`, as the operand that multiplies `matrix`.
    private func operand(_ matrix: Matrix, _ x: UnsafePointer<Float>, into index: Int) -> ck_i8_operand {
        let destination = quantized + index * slot
        let scale = ck_quantize_i8(x, matrix.k, destination)
        return ck_i8_operand(x: destination, x_scale: scale, k: matrix.k, packed: matrix.packed, scales: matrix.scales)
    }
}

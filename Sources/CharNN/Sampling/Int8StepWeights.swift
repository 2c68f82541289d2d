import CKernels

/// The matrices of an ``InferenceStep`` in ``SamplingPrecision/int8``: each layer's W_ih (above
/// the first layer, whose input comes from the symbol table) and W_hh, and the head, packed as
/// int8 panels with one scale per output row (int8_gemv.c). Each product rounds its input vectors
/// to int8 first, one scale per vector, and sums integer dot products.
///
/// W_ih and W_hh keep scales of their own (a fused row would take the larger row's), so one
/// layer's gates are two operands of one ``ck_packed_gemv_i8`` call.
final class Int8StepWeights {
    /// One packed matrix B = Wᵀ [k, n] with its n scales (padded to the panel width).
    private struct Matrix {
        let packed: UnsafeMutablePointer<Int8>
        let scales: UnsafeMutablePointer<Float>
        let k: Int

        init(_ weights: UnsafePointer<Float>, rows n: Int, columns k: Int) {
            packed = .allocate(capacity: ck_packed_i8_count(k, n))
            scales = .allocate(capacity: (n + 31) / 32 * 32)
            self.k = k
            // W [n, k] row-major is B [k, n] with element (kk, j) at j · k + kk.
            ck_pack_b_i8(weights, k, n, 1, k, packed, scales)
        }

        func free() {
            packed.deallocate()
            scales.deallocate()
        }
    }

    private let recurrent: [Matrix]  // per layer, W_hh
    private let input: [Matrix?]     // per layer, W_ih (nil for layer 0)
    private let head: Matrix
    /// The two vectors of one product, rounded: each at most max(H, I) bytes padded to a multiple of
    /// 4 and zero past its length (the kernel reads whole groups of four).
    private let quantized: UnsafeMutablePointer<Int8>
    private let slot: Int

    init(model: CharModel) {
        let c = model.config, layout = model.parameters.layout, H = c.hiddenSize
        var recurrent: [Matrix] = [], input: [Matrix?] = []
        var widest = H
        head = model.parameters.values.withUnsafeBufferPointer { v in
            let p = v.baseAddress!
            for k in 0..<c.layers {
                recurrent.append(Matrix(p + layout.weightHH[k].offset, rows: 4 * H, columns: H))
                let I = InferenceStep.fusedInputSize(c, layer: k)
                widest = max(widest, I)
                input.append(k == 0 ? nil : Matrix(p + layout.weightIH[k].offset, rows: 4 * H, columns: I))
            }
            return Matrix(p + layout.headWeight.offset, rows: c.vocabularySize, columns: H)
        }
        self.recurrent = recurrent
        self.input = input
        slot = (widest + 3) / 4 * 4
        quantized = .allocate(capacity: 2 * slot)
        quantized.initialize(repeating: 0, count: 2 * slot)
    }

    deinit {
        for m in recurrent { m.free() }
        for m in input { m?.free() }
        head.free()
        quantized.deallocate()
    }

    /// gates[4H] += [x | h] · [W_ih | W_hh]ᵀ for one stream of layer `layer`; `fused` is that
    /// stream's [x | h] row (layer 0: h alone).
    func addGates(layer: Int, fused: UnsafePointer<Float>, into gates: UnsafeMutablePointer<Float>, threads: Int) {
        let hh = recurrent[layer]
        if let ih = input[layer] {
            var operands = [operand(ih, fused, into: 0), operand(hh, fused + ih.k, into: 1)]
            ck_packed_gemv_i8(&operands, 2, gates, 4 * (hh.k), Int32(threads))
        } else {
            var only = operand(hh, fused, into: 0)
            ck_packed_gemv_i8(&only, 1, gates, 4 * hh.k, Int32(threads))
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

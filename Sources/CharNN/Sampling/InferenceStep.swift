import CKernels

#if canImport(Glibc)
    import Glibc
#endif

/// The model run one symbol at a time for N streams side by side, as sampling needs.
///
/// At batch 1 this is bound by reading the weights, so each layer's two weight matrices are packed
/// once into one [4H, in + H] matrix (the LSTM's; [H, in + H] for the RNN, and the GRU's layout is
/// in InferenceCellLayout) beside a [x | h] input row: one GEMV per layer (a GEMM when
/// N > 1) instead of two, and the two biases are pre-added. Layer 0's input is one of V embedding
/// rows, so its input projection (with the biases) is read from a [V, 4H] table made once, and its
/// matrix is W_hh alone: one row of 4H floats read per symbol instead of all of W_ih. With ``SamplingPrecision/bfloat16``
/// those matrices and the head are held as bf16 (half the bytes to read per symbol); with
/// ``SamplingPrecision/int8``, as int8 panels multiplied by int8-rounded vectors (``Int8StepWeights``,
/// a quarter of the bytes). Every buffer
/// is allocated here, once; ``step(_:)`` allocates nothing.
@_spi(Internals) public final class InferenceStep {
    public let config: ModelConfig
    /// Number of streams N.
    public let streams: Int
    /// The number format of the weight matrices.
    public let precision: SamplingPrecision

    private let packedWeights: [UnsafeMutablePointer<Float>]  // per layer [4H, in + H] (layer 0: [4H, H]), or its panels
    private let packedBias: [UnsafeMutablePointer<Float>]     // per layer above the first [4H] (layer 0's is in the table)
    private let symbolGates: UnsafeMutablePointer<Float>      // [V, 4H]: embedding · W_ih0ᵀ + b_ih0 + b_hh0
    private let headWeight: UnsafeMutablePointer<Float>       // [V, H]
    private let headBias: UnsafeMutablePointer<Float>         // [V]
    private let inputs: [UnsafeMutablePointer<Float>]         // per layer [N, in + H]: [x | h_prev] (layer 0: h_prev)
    private let gates: UnsafeMutablePointer<Float>            // [N, 4H]
    private let cells: [UnsafeMutablePointer<Float>]          // per layer [N, H]
    private let scratchCell: UnsafeMutablePointer<Float>      // [N, H] (the GRU: layer 0's x_n)
    private let gruScratch: UnsafeMutablePointer<Float>       // [6H], the GRU's per-stream cell input (InferenceCellLayout)
    private let hidden: UnsafeMutablePointer<Float>           // [N, H]
    /// The logits of the last step, [N, V].
    public let logits: UnsafeMutablePointer<Float>
    /// With ``PackedGEMM``: `packedWeights` and this copy of the head are laid out in 32-column
    /// panels that the kernel reads front to back.
    private let usePanels: Bool
    private let panelHead: UnsafeMutablePointer<Float>?
    /// With bfloat16, one stream, and a CPU that runs the packed kernels: per layer the [4H, in + H]
    /// matrix and then the head, as bf16 row-pair panels (bf16_gemv.c); `packedWeights` is then empty.
    private let halfWeights: [UnsafeMutablePointer<UInt16>]
    /// With int8: every matrix a step multiplies through; `packedWeights` is then empty.
    private let int8Weights: Int8StepWeights?
    /// Threads for the products (1 or 2); ``recommendedThreads(for:precision:streams:)`` by default.
    public var threads: Int
    private var allocations: [UnsafeMutablePointer<Float>] = []

    public init(model: CharModel, streams: Int, precision: SamplingPrecision = .float32) throws(ModelError) {
        guard streams >= 1 else { throw .shapeMismatch("need at least one stream") }
        let c = model.config
        config = c
        self.streams = streams
        self.precision = precision
        let usePanels = PackedGEMM.isSupported
        let useHalf = Self.readsHalfWeights(precision: precision, streams: streams)
        let useInt8 = precision == .int8
        // The weights as this precision rounds them; the bf16 kernel rounds as it packs.
        let rounded = precision.applied(to: model), original = model
        let model = useHalf ? model : rounded
        let H = c.hiddenSize, V = c.vocabularySize, N = streams
        var allocations: [UnsafeMutablePointer<Float>] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            allocations.append(p)
            return p
        }
        let layout = model.parameters.layout
        let values = model.parameters.values
        func copy(_ role: ParameterRole, into destination: UnsafeMutablePointer<Float>) {
            let t = layout[role]
            values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress! + t.offset, count: t.count) }
        }
        // Per layer one matrix [4H, in + H] = [W_ih | W_hh]: for the packed kernel as panels (the
        // row-major copy only lives while one layer is packed), else row-major for GEMV.
        var halfWeights: [UnsafeMutablePointer<UInt16>] = []
        func makeHalf(k: Int, n: Int) -> UnsafeMutablePointer<UInt16> {
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: ck_packed_bf16_count(k, n))
            halfWeights.append(p)
            return p
        }
        var packedWeights: [UnsafeMutablePointer<Float>] = [], packedBias: [UnsafeMutablePointer<Float>] = []
        var inputs: [UnsafeMutablePointer<Float>] = [], cells: [UnsafeMutablePointer<Float>] = []
        let GW = InferenceCellLayout.gateWidth(c)
        var int8Layers: [(matrix: UnsafePointer<Float>, rows: Int, inputWidth: Int)] = []
        for k in 0..<c.layers {
            let I = Self.fusedInputSize(c, layer: k), W = I + H, R = InferenceCellLayout.fusedRows(c, layer: k)
            let rowMajor = UnsafeMutablePointer<Float>.allocate(capacity: R * W)
            // int8 packs the unrounded weights: packing rounds each row as applied(to:) does.
            let source = useInt8 ? original.parameters.values : values
            source.withUnsafeBufferPointer { v in
                InferenceCellLayout.fillMatrix(rowMajor, config: c, layout: layout, values: v.baseAddress!, layer: k, inputWidth: I)
            }
            if useInt8 {
                int8Layers.append((UnsafePointer(rowMajor), R, I))
            } else if useHalf {
                ck_pack_b_bf16(rowMajor, W, R, 1, W, makeHalf(k: W, n: R))
                rowMajor.deallocate()
            } else if usePanels {
                let panel = make(PackedGEMM.packedCount(k: W, n: R))
                PackedGEMM.pack(rowMajor, k: W, n: R, rowStride: 1, columnStride: W, into: panel)
                rowMajor.deallocate()
                packedWeights.append(panel)
            } else {
                allocations.append(rowMajor)
                packedWeights.append(rowMajor)
            }
        }
        for k in 0..<c.layers {
            let W = Self.fusedInputSize(c, layer: k) + H
            if k > 0 {
                let bias = make(GW)
                values.withUnsafeBufferPointer { v in
                    InferenceCellLayout.fillBias(bias, config: c, layout: layout, values: v.baseAddress!, layer: k)
                }
                packedBias.append(bias)
            }
            inputs.append(make(N * W))
            cells.append(make(N * H))
        }
        self.packedWeights = packedWeights
        self.packedBias = packedBias
        self.inputs = inputs
        self.cells = cells
        // The table from the rounded weights, so it holds what the products would compute.
        let symbolGates = make(V * GW)
        self.symbolGates = symbolGates
        rounded.parameters.values.withUnsafeBufferPointer { v in
            InferenceCellLayout.fillSymbolTable(symbolGates, config: c, layout: layout, values: v.baseAddress!)
        }
        headWeight = make(V * H)
        copy(.headWeight, into: headWeight)
        headBias = make(V)
        copy(.headBias, into: headBias)
        gates = make(N * GW)
        scratchCell = make(N * H)
        gruScratch = make(c.cell == .gru ? 6 * H : 0)
        hidden = make(N * H)
        logits = make(N * V)
        if useHalf {
            ck_pack_b_bf16(headWeight, H, V, 1, H, makeHalf(k: H, n: V))
            panelHead = nil
        } else if usePanels && !useInt8 {
            let head = make(PackedGEMM.packedCount(k: H, n: V))
            PackedGEMM.pack(headWeight, k: H, n: V, rowStride: 1, columnStride: H, into: head)
            panelHead = head
        } else {
            panelHead = nil
        }
        self.usePanels = usePanels && !useInt8
        self.halfWeights = halfWeights
        // From the unrounded weights: packing rounds each row exactly as applied(to:) does.
        if useInt8 {
            int8Weights = original.parameters.values.withUnsafeBufferPointer { v in
                Int8StepWeights(fused: int8Layers, hidden: H, headWeight: v.baseAddress! + layout.headWeight.offset,
                                vocabulary: V, streams: streams)
            }
            for layer in int8Layers { layer.matrix.deallocate() }
        } else {
            int8Weights = nil
        }
        threads = Self.recommendedThreads(for: c, precision: precision, streams: streams)
        self.allocations = allocations
    }

    deinit {
        for p in allocations { p.deallocate() }
        for p in halfWeights { p.deallocate() }
    }

    /// Threads that make steps fastest: a second core pays off once the weights read per step
    /// (all of them, every step) outgrow what one core streams quickly from its own 1 MiB L2.
    /// Measured with `charnn bench --threads 1|2` (2026-11-27, symbols/s, one thread → two, fp32 / bf16):
    /// 2×96 (456 KiB fp32) 181k–183k → 217k–219k; 2×128 (800 KiB) 99k–101k → 142k–146k / 149k–155k →
    /// 192k–193k. Earlier, before the symbol table replaced layer 0's W_ih, 2×64 (then 272 KiB) fell
    /// from 257k to 109k with a second thread. Hence 2 threads from 384 KiB, capped by the cores.
    public static func recommendedThreads(for config: ModelConfig, precision: SamplingPrecision = .float32,
                                          streams: Int = 1) -> Int {
        // Several streams read the weights once for all rows, but do N rows of arithmetic on them.
        let bytesPerWeight = precision == .int8 ? 1 : readsHalfWeights(precision: precision, streams: streams) ? 2 : 4
        // Layer 0's W_ih is not read per step: the symbol table replaces it.
        let weights = config.matrixWeightCount - config.gateRows * config.embeddingSize
        let bytes = weights * bytesPerWeight * max(1, streams)
        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return bytes >= 384 << 10 ? min(2, cores) : 1
    }

    /// Whether steps read bf16 weight panels (bf16_gemv.c). That kernel reads the weights once per
    /// stream, so it pays only for one stream; for several (one fp32 read serves all rows) or
    /// without a packed kernel (baseline), the same numbers come from fp32 products of the rounded weights.
    static func readsHalfWeights(precision: SamplingPrecision, streams: Int) -> Bool {
        PackedGEMM.isSupported && precision == .bfloat16 && streams == 1
    }

    /// Layer k's input columns in its fused matrix: 0 for layer 0, whose input comes from the
    /// symbol table, else the layer below's H.
    static func fusedInputSize(_ config: ModelConfig, layer k: Int) -> Int {
        k == 0 ? 0 : config.inputSize(ofLayer: k)
    }

    /// Sets every stream back to the all-zero state.
    public func reset() {
        let H = config.hiddenSize
        for k in 0..<config.layers {
            let W = Self.fusedInputSize(config, layer: k) + H
            inputs[k].update(repeating: 0, count: streams * W)
            cells[k].update(repeating: 0, count: streams * H)
        }
    }

    /// Sets every stream's state to the one stream of `state` ([layers, 1, H]), as a prime read by
    /// the batched forward pass leaves it; the next ``step(_:)`` continues from there.
    public func load(broadcasting state: RecurrentState) {
        precondition(state.layers == config.layers && state.batch == 1 && state.hidden == config.hiddenSize)
        let H = config.hiddenSize
        state.h.withUnsafeBufferPointer { h in
            state.c.withUnsafeBufferPointer { c in
                for k in 0..<config.layers {
                    let I = Self.fusedInputSize(config, layer: k), W = I + H
                    for n in 0..<streams {
                        (inputs[k] + n * W + I).update(from: h.baseAddress! + k * H, count: H)
                        (cells[k] + n * H).update(from: c.baseAddress! + k * H, count: H)
                    }
                }
            }
        }
    }

    /// Sets stream `row`'s state to the one stream of `state` ([layers, 1, H]), or to the zero
    /// state when `state` is nil; the other streams keep theirs.
    public func load(_ state: RecurrentState?, intoStream row: Int) {
        precondition(row >= 0 && row < streams)
        let H = config.hiddenSize
        for k in 0..<config.layers {
            let I = Self.fusedInputSize(config, layer: k), W = I + H
            if let state {
                precondition(state.layers == config.layers && state.batch == 1 && state.hidden == H)
                state.h.withUnsafeBufferPointer { (inputs[k] + row * W + I).update(from: $0.baseAddress! + k * H, count: H) }
                state.c.withUnsafeBufferPointer { (cells[k] + row * H).update(from: $0.baseAddress! + k * H, count: H) }
            } else {
                (inputs[k] + row * W + I).update(repeating: 0, count: H)
                (cells[k] + row * H).update(repeating: 0, count: H)
            }
        }
    }

    /// Copies stream `source`'s state over stream `destination`'s, so that a batch with a hole
    /// can be closed up by moving its last stream into the hole.
    public func moveStream(from source: Int, to destination: Int) {
        precondition(source >= 0 && source < streams && destination >= 0 && destination < streams)
        guard source != destination else { return }
        let H = config.hiddenSize
        for k in 0..<config.layers {
            let W = Self.fusedInputSize(config, layer: k) + H
            (inputs[k] + destination * W).update(from: inputs[k] + source * W, count: W)
            (cells[k] + destination * H).update(from: cells[k] + source * H, count: H)
        }
    }

    /// Which of one and two threads steps faster here, timed: the two counts alternate for
    /// `rounds` rounds of `steps` steps each, and two threads win only if their best round is at
    /// least 10 % faster than one thread's, so the choice never makes sampling slower by more than
    /// the timing noise. Leaves ``threads`` as it was and every stream at the zero state.
    public func fasterThreadCount(rounds: Int = 3, steps: Int = 16) -> Int {
        let kept = threads
        defer { threads = kept; reset() }
        let tokens = [Int32](repeating: 0, count: streams)
        let clock = ContinuousClock()
        var best: [Duration] = [.seconds(1_000_000), .seconds(1_000_000)]
        tokens.withUnsafeBufferPointer { tokens in
            for _ in 0..<rounds {
                for count in [1, 2] {
                    threads = count
                    step(tokens)  // the hand-off and the caches settle first
                    let time = clock.measure { for _ in 0..<steps { step(tokens) } }
                    best[count - 1] = min(best[count - 1], time)
                }
            }
        }
        return best[1] * 10 <= best[0] * 9 ? 2 : 1
    }

    /// Feeds one token per stream (tokens: [N]) and leaves the next-symbol logits in ``logits``.
    public func step(_ tokens: UnsafeBufferPointer<Int32>) {
        precondition(tokens.count == streams)
        step(tokens, rows: streams)
    }

    /// As ``step(_:)`` for the first `rows` streams only (tokens: [rows]); the streams after them
    /// keep their state. Continuous batching keeps its live streams in the first rows, so a step
    /// costs what its live streams need, not what the batch could hold.
    public func step(_ tokens: UnsafeBufferPointer<Int32>, rows: Int) {
        precondition(tokens.count == rows && rows >= 1 && rows <= streams)
        // OpenBLAS's thread count is process-wide; the GEMV/GEMM paths follow ``threads``, under the
        // lock that keeps a concurrent training pass (or another sampler) from changing it meanwhile.
        OpenBLASRuntime.withThreads(threads) { stepHoldingThreadCount(tokens, rows: rows) }
    }

    private func stepHoldingThreadCount(_ tokens: UnsafeBufferPointer<Int32>, rows: Int) {
        let N = rows, H = config.hiddenSize, V = config.vocabularySize, GW = InferenceCellLayout.gateWidth(config)
        let gru = config.cell == .gru
        for k in 0..<config.layers {
            let I = Self.fusedInputSize(config, layer: k), W = I + H
            let x = inputs[k]
            // R = the product's columns per stream, G·H (the GRU's: InferenceCellLayout).
            let R = InferenceCellLayout.fusedRows(config, layer: k)
            // gates[N, R] = [x | h_prev][N, I + H] · packedᵀ + bias; layer 0 starts from its
            // token's row of the table, which holds x · W_ihᵀ + bias.
            for n in 0..<N {
                if k == 0 {
                    let token = Int(tokens[n])
                    precondition(token >= 0 && token < V, "token outside the vocabulary")
                    (gates + n * R).update(from: symbolGates + token * GW, count: R)
                    if gru { (scratchCell + n * H).update(from: symbolGates + token * GW + 3 * H, count: H) }
                } else {
                    (gates + n * R).update(from: packedBias[k - 1], count: R)
                }
            }
            if let int8Weights {
                // Each stream's vectors have their own scale; one call takes every stream, and they share
                // each panel of weights while it is in L1 (int8_gemv.c).
                int8Weights.addGates(layer: k, fused: x, fusedStride: W, rows: N, into: gates, threads: threads)
            } else if !halfWeights.isEmpty {
                ck_packed_gemv_bf16(x, W, halfWeights[k], gates, R, Int32(threads))
            } else if usePanels {
                PackedGEMM.multiplyAdd(m: N, n: R, k: W, x, packed: packedWeights[k], into: gates, threads: threads)
            } else if N == 1 {
                BLAS.gemv(rows: R, cols: W, packedWeights[k], x, into: gates, beta: 1)
            } else {
                BLAS.gemm(m: N, n: R, k: W, x, packedWeights[k], transposeB: true, into: gates, beta: 1)
            }
            switch config.cell {
            case .lstm:
                ck_lstm_cell_forward(gates, cells[k], scratchCell, hidden, N, H)
                cells[k].update(from: scratchCell, count: N * H)
            case .rnn:
                ck_tanh(gates, hidden, N * H)
            case .gru:
                InferenceCellLayout.gruStep(
                    gates: gates, stride: R, xn: k == 0 ? scratchCell : gates + 3 * H, xnStride: k == 0 ? H : R,
                    hPrev: x + I, hStride: W, h: hidden, scratch: gruScratch, streams: N, hidden: H)
            }
            // h becomes this layer's recurrent input next step and the next layer's input now.
            for n in 0..<N {
                (x + n * W + I).update(from: hidden + n * H, count: H)
                if k + 1 < config.layers { (inputs[k + 1] + n * (H + H)).update(from: hidden + n * H, count: H) }
            }
        }
        for n in 0..<N { (logits + n * V).update(from: headBias, count: V) }
        if let int8Weights {
            int8Weights.addLogits(hidden: hidden, rows: N, into: logits, vocabulary: V, threads: threads)
        } else if !halfWeights.isEmpty {
            ck_packed_gemv_bf16(hidden, H, halfWeights[config.layers], logits, V, Int32(threads))
        } else if let panelHead {
            PackedGEMM.multiplyAdd(m: N, n: V, k: H, hidden, packed: panelHead, into: logits, threads: threads)
        } else if N == 1 {
            BLAS.gemv(rows: V, cols: H, headWeight, hidden, into: logits, beta: 1)
        } else {
            BLAS.gemm(m: N, n: V, k: H, hidden, headWeight, transposeB: true, into: logits, beta: 1)
        }
    }
}

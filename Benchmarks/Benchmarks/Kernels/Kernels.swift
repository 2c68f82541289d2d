import Benchmark
@_spi(Internals) import CharNN

/// The hot kernels at the shapes of a 2×512 model trained with B = 50, T = 100 (the medium
/// configuration of docs/performance.md), each reported in GFLOP/s or items/s beside wall time.
/// Baselines sit in the same run: OpenBLAS next to the packed kernel, one thread next to two.
let benchmarks: @Sendable () -> Void = {
    let gflops = BenchmarkMetric.custom("GFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
    let perSecond = BenchmarkMetric.custom("items/s", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, gflops, perSecond], warmupIterations: 3, maxDuration: .seconds(4), maxIterations: 200)
    let B = 50, H = 512, T = 100, V = 65

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in rng.nextUnitFloat() - 0.5 }
    }
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
    func timed(_ benchmark: Benchmark, flops: Double, items: Double = 0, _ body: () throws -> Void) rethrows {
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        try body()
        let elapsed = seconds(start.duration(to: .now))
        benchmark.stopMeasurement()
        if flops > 0 { benchmark.measurement(gflops, Int((flops / elapsed / 1e9).rounded())) }
        if items > 0 { benchmark.measurement(perSecond, Int((items / elapsed).rounded())) }
    }

    // The GEMM wrapper at the LSTM's shapes: the per-step recurrent product and the batched input
    // projection, through OpenBLAS and through the packed kernel.
    for threads in [1, 2] {
        Benchmark("GEMM recurrent 50x512·512x2048 OpenBLAS \(threads)t", configuration: configuration) { benchmark in
            OpenBLASRuntime.setThreads(threads)
            let a = random(B * H, seed: 1), w = random(4 * H * H, seed: 2)
            var c = [Float](repeating: 0, count: B * 4 * H)
            timed(benchmark, flops: 2.0 * Double(B * H * 4 * H) * 20) {
                for _ in 0..<20 { BLAS.gemm(m: B, n: 4 * H, k: H, a, w, transposeB: true, into: &c, beta: 1) }
            }
        }
        if PackedGEMM.isSupported {
            Benchmark("GEMM recurrent 50x512·512x2048 packed \(threads)t", configuration: configuration) { benchmark in
                let a = random(B * H, seed: 1), w = random(4 * H * H, seed: 2)
                var packed = [Float](repeating: 0, count: PackedGEMM.packedCount(k: H, n: 4 * H))
                PackedGEMM.pack(w, k: H, n: 4 * H, rowStride: 1, columnStride: H, into: &packed)
                var c = [Float](repeating: 0, count: B * 4 * H)
                timed(benchmark, flops: 2.0 * Double(B * H * 4 * H) * 20) {
                    for _ in 0..<20 { PackedGEMM.multiplyAdd(m: B, n: 4 * H, k: H, a, packed: packed, into: &c, threads: threads) }
                }
            }
        }
        Benchmark("GEMM projection 5000x512·512x2048 OpenBLAS \(threads)t", configuration: configuration) { benchmark in
            OpenBLASRuntime.setThreads(threads)
            let x = random(B * T * H, seed: 3), w = random(4 * H * H, seed: 4)
            var c = [Float](repeating: 0, count: B * T * 4 * H)
            timed(benchmark, flops: 2.0 * Double(B * T * H * 4 * H)) {
                BLAS.gemm(m: B * T, n: 4 * H, k: H, x, w, transposeB: true, into: &c, beta: 1)
            }
        }
    }

    // One LSTM training step (forward and backward over T = 1) of a 2×512 model at B = 50.
    Benchmark("LSTM step forward+backward 2x512 B50", configuration: configuration) { benchmark in
        OpenBLASRuntime.setThreads(2)
        let config = ModelConfig(vocabularySize: V, embeddingSize: 64, hiddenSize: H, layers: 2)
        let model = try CharModel(config: config, seed: 1)
        let workspace = try ModelWorkspace(config: config, batch: B, steps: 1)
        workspace.recurrentThreads = 2
        var gradients = ParameterSet(zerosFor: model.parameters.layout)
        let tokens = (0..<B).map { Int32($0 % V) }
        let flops = 3 * TrainingBenchmark.forwardFlopsPerSymbol(layers: 2, hidden: H, input: 64, vocabulary: V) * Double(B)
        try timed(benchmark, flops: flops * 10) {
            for _ in 0..<10 {
                var state = RecurrentState(layers: 2, batch: B, hidden: H)
                _ = try model.forward(tokens: tokens, targets: tokens, state: &state, workspace: workspace)
                try model.backward(workspace: workspace, into: &gradients)
            }
        }
    }

    // Softmax cross-entropy over all B·T positions, forward and backward in one pass.
    Benchmark("softmax cross-entropy 5000x65", configuration: configuration) { benchmark in
        let logits = random(B * T * V, seed: 5)
        let targets = (0..<(B * T)).map { Int32($0 % V) }
        var gradient = [Float](repeating: 0, count: B * T * V), losses = [Float](repeating: 0, count: B * T)
        timed(benchmark, flops: 0, items: Double(B * T * 50)) {
            for _ in 0..<50 {
                targets.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { g in
                        losses.withUnsafeMutableBufferPointer { l in
                            blackHole(Activations.softmaxCrossEntropy(
                                logits: logits, targets: t, gradient: g.baseAddress!, rowLosses: l, cols: V, gradientScale: 1))
                        }
                    }
                }
            }
        }
    }

    // The sampler's step at batch 1: one symbol through a 2×128 and a 2×512 model, fp32 and bf16 weights.
    for hidden in [128, 512] {
        for precision in SamplingPrecision.allCases {
            let suffix = precision == .float32 ? "" : " bf16"
            Benchmark("sampler step 2x\(hidden) batch 1\(suffix)", configuration: configuration) { benchmark in
                let config = ModelConfig(vocabularySize: V, embeddingSize: 64, hiddenSize: hidden, layers: 2)
                let model = try CharModel(config: config, seed: 1)
                let step = try InferenceStep(model: model, streams: 1, precision: precision)
                OpenBLASRuntime.setThreads(step.threads)
                let flops = TrainingBenchmark.forwardFlopsPerSymbol(layers: 2, hidden: hidden, input: 64, vocabulary: V)
                timed(benchmark, flops: flops * 2000, items: 2000) {
                    var token: [Int32] = [1]
                    for n in 0..<2000 {
                        token[0] = Int32(n % V)
                        token.withUnsafeBufferPointer { step.step($0) }
                    }
                }
            }
        }
    }
}

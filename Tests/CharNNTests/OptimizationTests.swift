import CKernels
@_spi(Internals) import CharNN
import Foundation
import Testing

@Suite("Optimization: Adam, clipping, learning-rate plan")
struct OptimizationTests {
    @Test("Adam's first steps match the closed form")
    func adam() throws {
        let layout = tinyLayout()
        var parameters = ParameterSet(zerosFor: layout)
        var gradients = ParameterSet(zerosFor: layout)
        for i in gradients.values.indices { gradients.values[i] = Float(i % 3) - 1 }  // -1, 0, 1, …
        var adam = AdamOptimizer(layout: layout)
        adam.update(&parameters, gradients: gradients, learningRate: 0.1)
        // After one step with bias correction, each parameter moves by lr · sign(g) (ε aside).
        for (p, g) in zip(parameters.values, gradients.values) {
            #expect(abs(p - (g == 0 ? 0 : -0.1 * g)) < 1e-6)
        }
        adam.update(&parameters, gradients: gradients, learningRate: 0.1)
        #expect(adam.stepCount == 2)
        for (p, g) in zip(parameters.values, gradients.values) { #expect(abs(p - (g == 0 ? 0 : -0.2 * g)) < 1e-5) }
    }

    @Test("Adam's SIMD pass follows the formula over many parameters, in every kernel variant",
          arguments: Activations.availableVariants)
    func adamKernel(variant: String) throws {
        let config = ModelConfig(vocabularySize: 7, embeddingSize: 5, hiddenSize: 9, layers: 2)
        let layout = ParameterLayout(config: config)
        let n = layout.totalCount
        var parameters = ParameterSet(zerosFor: layout)
        var gradients = ParameterSet(zerosFor: layout)
        for i in 0..<n { parameters.values[i] = Float(i % 17) * 0.01 - 0.08 }
        var (theta, m, v) = (parameters.values.map(Double.init), [Double](repeating: 0, count: n), [Double](repeating: 0, count: n))
        var adam = AdamOptimizer(layout: layout)
        try inVariant(variant) {
            for t in 1...3 {
                for i in 0..<n { gradients.values[i] = Float((i * 7 + t * 3) % 23) * 0.1 - 1.1 }
                adam.update(&parameters, gradients: gradients, learningRate: 0.01)
                for i in 0..<n {
                    let g = Double(gradients.values[i])
                    m[i] = 0.9 * m[i] + 0.1 * g
                    v[i] = 0.999 * v[i] + 0.001 * g * g
                    let mHat = m[i] / (1 - pow(0.9, Double(t))), vHat = v[i] / (1 - pow(0.999, Double(t)))
                    theta[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
                }
            }
        }
        let worst = zip(parameters.values, theta).map { abs(Double($0) - $1) }.max() ?? 1
        #expect(n > 100 && worst < 1e-6, "\(n) parameters, largest difference \(worst)")
    }

    @Test("the gradient norm is the same to the bit in every kernel variant and matches a double sum")
    func normAcrossVariants() throws {
        var gradients = ParameterSet(zerosFor: ParameterLayout(config: ModelConfig(vocabularySize: 7, embeddingSize: 5, hiddenSize: 9, layers: 2)))
        for i in gradients.values.indices { gradients.values[i] = Float(sin(Double(i) * 0.37)) * Float(1 + i % 5) }
        let exact = gradients.values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        var norms: [Double] = []
        for variant in Activations.availableVariants { try inVariant(variant) { norms.append(gradients.globalNorm) } }
        // One variant alone under CHARNN_SIMD=baseline; every one of this CPU's otherwise.
        #expect(norms.count == Activations.availableVariants.count && Set(norms).count == 1, "norms \(norms)")
        #expect(abs(norms[0] - exact) < 1e-12 * exact)
    }

    /// The kernel variants this process should run, read from /proc/cpuinfo's flags rather than
    /// from the dispatcher's own cpuid probe, so a probe that misses a variant is caught; a
    /// supported `CHARNN_SIMD` narrows them to the forced variant and those below it.
    static func variantsFromCPUInfo() -> [String] {
        let cpu = variantsOfCPU()
        if let forced = ProcessInfo.processInfo.environment["CHARNN_SIMD"], let i = cpu.firstIndex(of: forced) { return Array(cpu[i...]) }
        return cpu
    }

    private static func variantsOfCPU() -> [String] {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flagsLine = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let avx512 = ["avx512f", "avx512vl", "avx512dq", "avx512bw"].allSatisfy(flags.contains)
        let avx2 = flags.contains("avx2") && flags.contains("fma")
        return (avx512 ? ["avx512"] : []) + (avx2 || avx512 ? ["avx2"] : []) + ["baseline"]
    }

    @Test("the kernel variants on offer are exactly those the CPU (and CHARNN_SIMD) allow, and each can be forced")
    func variantsMatchCPU() throws {
        try #require(FileManager.default.fileExists(atPath: "/proc/cpuinfo"))
        let expected = Self.variantsFromCPUInfo()
        #expect(Activations.availableVariants == expected, "cpuid level \(ck_cpu_simd_level())")
        for name in ["avx512", "avx2", "baseline"] {
            let forced = Activations.withVariant(name) { Activations.variant }
            #expect(forced == (expected.contains(name) ? name : nil), "\(name)")
        }
    }

    @Test("clipping scales the whole gradient to the maximum norm and reports the norm before")
    func clipping() throws {
        let layout = tinyLayout()
        var gradients = ParameterSet(zerosFor: layout)
        gradients.values[0] = 3
        gradients.values[1] = 4
        #expect(clipGradientNorm(&gradients, maxNorm: 1) == 5)
        #expect(abs(gradients.values[0] - 0.6) < 1e-6 && abs(gradients.values[1] - 0.8) < 1e-6)
        #expect(clipGradientNorm(&gradients, maxNorm: 10) < 1.0001)
        #expect(abs(gradients.values[0] - 0.6) < 1e-6)
        gradients.values[2] = .nan
        #expect(clipGradientNorm(&gradients, maxNorm: 1).isNaN)
    }

    @Test("warm-up ramps linearly, cosine ends at a tenth of the base, constant stays")
    func schedule() {
        let cosine = LearningRatePlan(base: 1e-2, schedule: .cosine, warmupSteps: 10, totalSteps: 110)
        #expect(abs(cosine.rate(atStep: 0) - 1e-3) < 1e-12)
        #expect(abs(cosine.rate(atStep: 9) - 1e-2) < 1e-12)
        #expect(abs(cosine.rate(atStep: 10) - 1e-2) < 1e-12)
        #expect(abs(cosine.rate(atStep: 109) - 1e-3) < 1e-12)
        #expect(cosine.rate(atStep: 60) < 1e-2 && cosine.rate(atStep: 60) > 1e-3)
        let steps = (10..<110).map { cosine.rate(atStep: $0) }
        #expect(zip(steps, steps.dropFirst()).allSatisfy { $0 >= $1 })
        let constant = LearningRatePlan(base: 2e-3, schedule: .constant, warmupSteps: 0, totalSteps: 50)
        #expect((0..<100).allSatisfy { constant.rate(atStep: $0) == 2e-3 })
        let unknownLength = LearningRatePlan(base: 2e-3, schedule: .cosine, warmupSteps: 0, totalSteps: nil)
        #expect(unknownLength.rate(atStep: 1000) == 2e-3)
    }

    @Test("validation runs every 250 steps unless the validation text would take over a tenth of the time")
    func automaticEvalEvery() {
        var options = TrainingOptions()
        options.batch = 32
        options.sequenceLength = 64
        #expect(options.automaticEvalEvery(validationSymbols: 20_000) == 250)
        // 505,650 symbols (Shakespeare's last 10 %): (10/3)·505,650 / 2048 = 823 → 850.
        #expect(options.automaticEvalEvery(validationSymbols: 505_650) == 850)
        // That an explicit evalEvery wins over this is checked by the log steps of
        // TrainingRunTests' bitIdenticalResume (every 4 steps, not every 250).
    }

    @Test("--epochs and --steps count the run's total; the smaller wins")
    func budgets() throws {
        let dir = try temporaryDirectory("budget")
        let corpus = try writeSmallCorpus(in: dir)
        var options = tinyTrainingOptions(steps: 1000)
        options.maxSteps = nil
        options.epochs = 2
        let run = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                  directory: RunDirectory(path: dir + "/run"), mode: .fresh)
        let summary = try run.run(events: { _ in }, shouldStop: { false })
        #expect(summary.step == 2 * run.trainer.streams.stepsPerEpoch && summary.epoch == 2)
        #expect(summary.reason == .stepBudget)

        options.epochs = nil
        options.timeBudgetSeconds = 0.3
        let timed = try TrainingRun(corpusPath: corpus, textOptions: TextOptions(), options: options,
                                    directory: RunDirectory(path: dir + "/timed"), mode: .fresh)
        let clock = ContinuousClock()
        let start = clock.now
        let timedSummary = try timed.run(events: { _ in }, shouldStop: { false })
        #expect(timedSummary.reason == .timeBudget && timedSummary.step > 0)
        #expect(clock.now - start < .seconds(30))
        #expect(try Checkpoint.load(from: dir + "/timed/latest.safetensors").training?.step == timedSummary.step)
    }
}

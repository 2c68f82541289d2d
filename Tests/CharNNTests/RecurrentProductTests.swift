@_spi(Internals) @testable import CharNN
import Testing

/// The two ways the LSTM forms its per-step recurrent product, run on one host: the packed panel
/// kernel (every SIMD variant this CPU has that has one, through the per-thread switch) and
/// OpenBLAS, which charnn uses where no fast packed kernel exists (`PackedGEMM.isSupported` false,
/// e.g. under `CHARNN_SIMD=baseline`). A CPU with a packed kernel would otherwise never run the
/// OpenBLAS path in its tests. (A thread forced to baseline takes OpenBLAS even in a packed
/// workspace, as a baseline CPU does; PackedGEMMTests tests the portable panel loop itself.)
@Suite("Recurrent product: packed kernel and OpenBLAS")
struct RecurrentProductTests {
    struct Pass: Equatable {
        var loss: Double, logitGradient: [Float], gradients: [Float], h: [Float], c: [Float], dh0: [Float], dc0: [Float]
    }

    /// One forward and backward pass over a random batch; `packed` chooses the product path.
    static func pass(_ model: CharModel, batch B: Int, steps T: Int, packed: Bool) throws -> Pass {
        let config = model.config
        let workspace = try ModelWorkspace(config: config, batch: B, steps: T, packsRecurrentWeights: packed)
        #expect(workspace.packedRecurrent.count == (packed ? config.layers : 0))
        var rng = RandomGenerator(seed: UInt64(B * 31 + T))
        let V = UInt64(config.vocabularySize)
        let tokens = (0..<(B * T)).map { _ in Int32(rng.next() % V) }
        let targets = (0..<(B * T)).map { _ in Int32(rng.next() % V) }
        var state = RecurrentState(layers: config.layers, batch: B, hidden: config.hiddenSize)
        for i in state.h.indices {
            state.h[i] = rng.nextUnitFloat() - 0.5
            state.c[i] = rng.nextUnitFloat() - 0.5
        }
        let loss = try #require(try model.forward(tokens: tokens, targets: targets, state: &state, workspace: workspace))
        let logitGradient = workspace.logitsCopy()
        var gradients = ParameterSet(zerosFor: model.parameters.layout)
        try model.backward(workspace: workspace, into: &gradients)
        let (dh0, dc0) = workspace.initialStateGradient()
        return Pass(loss: loss, logitGradient: logitGradient, gradients: gradients.values, h: state.h, c: state.c,
                    dh0: dh0, dc0: dc0)
    }

    static func worst(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        let scale = max(b.map(abs).max() ?? 0, 1e-6)
        return (zip(a, b).map { abs($0 - $1) }.max() ?? 0) / scale
    }

    /// Hidden 67 (4H = 268: eight full 32-column panels and a partial one whose second 16-column
    /// half is empty; H = 67 backward: two panels and 3 columns; odd k), 64 streams (64 × 67 ≥
    /// 4096; blocks of 6 and 5 rows), and one stream (the m = 1 kernel, as one-pass eval runs it).
    @Test("forward, loss, every gradient and the final state agree, in every variant",
          arguments: [(64, 4), (1, 9)])
    func pathsAgree(shape: (batch: Int, steps: Int)) throws {
        let config = ModelConfig(vocabularySize: 23, embeddingSize: 5, hiddenSize: 67, layers: 2)
        let model = try CharModel(config: config, seed: 17)
        let viaBLAS = try Self.pass(model, batch: shape.batch, steps: shape.steps, packed: false)
        let withKernel = Activations.availableVariants.filter { Activations.withVariant($0) { PackedGEMM.isFastOnThisThread } == true }
        #expect(withKernel.count == Activations.availableVariants.count - 1, "every variant but baseline has a packed kernel")
        for variant in withKernel {
            try inVariant(variant) {
                let viaPanels = try Self.pass(model, batch: shape.batch, steps: shape.steps, packed: true)
                #expect(abs(viaPanels.loss - viaBLAS.loss) < 1e-5 * viaBLAS.loss, "\(variant)")
                #expect(Self.worst(viaPanels.logitGradient, viaBLAS.logitGradient) < 1e-4, "\(variant) logits")
                #expect(Self.worst(viaPanels.gradients, viaBLAS.gradients) < 1e-4, "\(variant) gradients")
                #expect(Self.worst(viaPanels.h, viaBLAS.h) < 1e-4 && Self.worst(viaPanels.c, viaBLAS.c) < 1e-4,
                        "\(variant) state")
                #expect(Self.worst(viaPanels.dh0, viaBLAS.dh0) < 1e-4 && Self.worst(viaPanels.dc0, viaBLAS.dc0) < 1e-4,
                        "\(variant) initial-state gradient")
            }
        }
        #expect(viaBLAS.gradients.contains { abs($0) > 1e-4 }, "the comparison needs gradients that are not all zero")
    }
}

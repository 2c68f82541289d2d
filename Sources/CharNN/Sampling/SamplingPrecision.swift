import CKernels

/// The number format of the weights used for sampling and scoring.
///
/// Batch-1 sampling reads every weight once per symbol and, for models with 512 units, is bound by
/// memory bandwidth: halving the bytes of the weights makes it faster. `bfloat16` rounds each LSTM
/// and output weight to bfloat16 (8 significant bits) and keeps all arithmetic, activations, biases
/// and the embedding in fp32, so its only effect is that rounding; docs/performance.md records what
/// it does to validation loss. Training always uses fp32.
public enum SamplingPrecision: String, CaseIterable, Sendable, Codable {
    /// Every weight in fp32, as trained: exactly the model's arithmetic.
    case float32
    /// LSTM and output weight matrices rounded to bfloat16; everything else in fp32.
    case bfloat16

    /// What ``Sampler`` and `charnn sample` use unless told otherwise: bfloat16, which samples
    /// 1.3–2.2× faster than float32 (2×128 to 3×512) and moved validation loss by 0.0001 nats
    /// (docs/performance.md), far inside the 0.01 that would keep float32 the default.
    public static let samplingDefault = SamplingPrecision.bfloat16

    /// The model as this precision computes it: for `bfloat16`, with every weight matrix the
    /// sampler reads in bf16 rounded to the nearest bf16 value (biases and the embedding kept).
    /// Scoring this model gives the loss that sampling in this precision would see.
    public func applied(to model: CharModel) -> CharModel {
        guard self == .bfloat16 else { return model }
        var rounded = model
        let layout = model.parameters.layout
        // Every matrix the sampler multiplies through is stored in bf16.
        for t in layout.tensors where t.role.isMatrixProduct {
            rounded.parameters.values.withUnsafeMutableBufferPointer { v in
                for i in t.offset..<(t.offset + t.count) { v[i] = ck_float_from_bf16(ck_bf16_from_float(v[i])) }
            }
        }
        return rounded
    }
}

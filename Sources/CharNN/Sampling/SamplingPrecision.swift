import CKernels

/// The number format of the weights used for sampling and scoring.
///
/// Batch-1 sampling reads every weight once per symbol and, for models with 512 units, is bound by
/// memory bandwidth: halving the bytes of the weights makes it faster. `bfloat16` rounds each LSTM
/// and output weight to bfloat16 (8 significant bits) and keeps all arithmetic, activations, biases
/// and the embedding in fp32, so its only effect is that rounding; docs/performance.md records what
/// it does to validation loss. `int8` stores them as 8-bit integers with one scale per output row
/// and rounds the vectors they multiply to 8 bits at every step as well, so the products are integer
/// dot products: a quarter of fp32's bytes, and 2.5–3× less arithmetic than widening each weight to
/// fp32. Training always uses fp32.
public enum SamplingPrecision: String, CaseIterable, Sendable, Codable {
    /// Every weight in fp32, as trained: exactly the model's arithmetic.
    case float32
    /// LSTM and output weight matrices rounded to bfloat16; everything else in fp32.
    case bfloat16
    /// LSTM and output weight matrices as int8, symmetric, one fp32 scale per output row
    /// (max |row| / 127); the hidden-state vectors those matrices multiply rounded to int8 at each
    /// step with one scale per vector; biases, the embedding, the cell and every other sum in fp32.
    case int8

    /// What ``Sampler`` and `charnn sample` use unless told otherwise: the fastest measured on
    /// this CPU's kernel level (docs/performance.md), each far inside the 0.01 nats of validation
    /// loss that would keep float32.
    /// - AVX-512: bfloat16 (its bf16 panels sample 1.3–2.2× faster than float32; +0.0001 nats).
    /// - AVX2: int8 (3.6–6.6× float32's symbols/s from 2×128 to 3×512 on Zen 3; +0.0012 nats on
    ///   the shipped model).
    /// - Neither (the portable kernels, also every CPU that is not x86-64): float32. Without a
    ///   vector kernel bf16 gains nothing, and the portable int8 loop sampled 2.4× (2×128) to 12×
    ///   (2×512) slower than OpenBLAS's fp32 products.
    public static var samplingDefault: SamplingPrecision {
        switch ck_simd_level() {
        case 1: .bfloat16
        case 2: .int8
        default: .float32
        }
    }

    /// Whether this precision also rounds the activations at each step, which no model's weights
    /// can express: ``applied(to:)`` then gives the weights only, and the loss sampling sees comes
    /// from stepping the sampler itself (`Scorer.stepping`).
    public var roundsActivations: Bool { self == .int8 }

    /// The model with the weights as this precision stores them: for `bfloat16` every weight
    /// matrix the sampler reads rounded to the nearest bf16 value, for `int8` each of its rows
    /// replaced by its int8 round trip (biases and the embedding kept). For float32 and bfloat16,
    /// scoring this model gives the loss that sampling in this precision sees; for int8 it leaves
    /// out the rounding of the activations (``roundsActivations``).
    public func applied(to model: CharModel) -> CharModel {
        guard self != .float32 else { return model }
        var rounded = model
        let layout = model.parameters.layout
        // Every matrix the sampler multiplies through is stored in the reduced format.
        for t in layout.tensors where t.role.isMatrixProduct {
            rounded.parameters.values.withUnsafeMutableBufferPointer { v in
                switch self {
                case .float32:
                    break
                case .bfloat16:
                    for i in t.range { v[i] = ck_float_from_bf16(ck_bf16_from_float(v[i])) }
                case .int8:
                    ck_round_rows_i8(v.baseAddress! + t.offset, t.shape[0], t.shape[1])
                }
            }
        }
        return rounded
    }
}

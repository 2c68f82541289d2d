// AWD-LSTM's weight drop (Merity et al., 2017): DropConnect on the recurrent weights. Dropout on a
// layer's output leaves the recurrence itself unregularized; dropping entries of W_hh does, with
// one mask for the whole step, so every stream and time step sees the same thinned recurrence.

/// Masks every layer's hidden-to-hidden weights for one training step and restores them after.
///
/// A step runs `apply` (W_hh ← W_hh ⊙ mask, mask = 0 with probability p, else 1/(1−p)), the forward
/// and backward passes on the masked weights, `restore`, then `maskGradient` (∂L/∂W_hh ← ∂L/∂W ⊙
/// mask, the chain rule through the mask). Validation, sampling and checkpoints see the raw weights,
/// which is what the inverted scaling is for. The mask comes from one seed per step, drawn from the
/// run's generator, so data-parallel ranks draw the same mask and `--resume` repeats it.
struct WeightDrop {
    /// The probability of dropping each recurrent weight, in (0, 1).
    let probability: Float
    /// Every recurrent layer's W_hh in the parameter vector: [G·H, H] each.
    private let ranges: [Range<Int>]
    private var mask: [Float]
    private var raw: [Float]

    /// Nil when `probability` is 0: a run without weight drop draws nothing and runs as before.
    init?(probability: Float, layout: ParameterLayout) {
        guard probability > 0 else { return nil }
        self.probability = probability
        ranges = layout.weightHH.map(\.range)
        let count = ranges.reduce(0) { $0 + $1.count }
        mask = [Float](repeating: 0, count: count)
        raw = [Float](repeating: 0, count: count)
    }

    /// Draws this step's mask from `seed`, keeps the raw W_hh and writes the masked ones.
    mutating func apply(to parameters: inout ParameterSet, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        let keep = dropoutScale(probability)
        for i in mask.indices { mask[i] = rng.nextUnitFloat() < probability ? 0 : keep }
        var offset = 0
        for range in ranges {
            for (j, index) in range.enumerated() {
                raw[offset + j] = parameters.values[index]
                parameters.values[index] *= mask[offset + j]
            }
            offset += range.count
        }
    }

    /// Puts back the raw W_hh that `apply` kept.
    func restore(_ parameters: inout ParameterSet) {
        var offset = 0
        for range in ranges {
            parameters.values.replaceSubrange(range, with: raw[offset..<(offset + range.count)])
            offset += range.count
        }
    }

    /// ∂L/∂W_hh ← ∂L/∂(W_hh ⊙ mask) ⊙ mask: a dropped weight gets no gradient.
    func maskGradient(_ gradients: inout ParameterSet) {
        var offset = 0
        for range in ranges {
            for (j, index) in range.enumerated() { gradients.values[index] *= mask[offset + j] }
            offset += range.count
        }
    }
}

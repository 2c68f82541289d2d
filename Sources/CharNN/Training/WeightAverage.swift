/// An exponential moving average of the weights (Polyak averaging), the model a run validates,
/// saves and samples with when `--average-decay` is set.
///
/// Why: late in a run Adam's iterates wander around a minimum, so validation loss jumps by about
/// 0.01 nats from one pass to the next even at a small learning rate; the average of recent
/// iterates sits nearer the middle. The decay ramps up as min(β, (1 + t) / (10 + t)) (t = updates
/// so far), so the first iterates, far from any minimum, are forgotten quickly.
public struct WeightAverage: Sendable, Equatable {
    /// The largest decay β, in (0, 1), e.g. 0.999; early updates use less (see ``effectiveDecay(atStep:)``).
    public var decay: Double
    /// The averaged weights, in the model's layout.
    public var values: ParameterSet

    /// Starts the average at `parameters` (the weights before the first update it will see).
    public init(decay: Double, startingAt parameters: ParameterSet) {
        self.decay = decay
        values = parameters
    }

    /// The decay applied at update number `step` (1-based).
    public func effectiveDecay(atStep step: Int) -> Float {
        Float(min(decay, Double(1 + step) / Double(10 + step)))
    }

    /// avg ← d · avg + (1 − d) · θ, after update number `step`.
    public mutating func update(with parameters: ParameterSet, step: Int) {
        precondition(parameters.layout == values.layout)
        let d = effectiveDecay(atStep: step)
        let keep = 1 - d
        values.values.withUnsafeMutableBufferPointer { average in
            parameters.values.withUnsafeBufferPointer { theta in
                for i in 0..<average.count { average[i] = d * average[i] + keep * theta[i] }
            }
        }
    }
}

import CKernels

/// Adam (Kingma & Ba) with bias correction, over the model's flat parameter buffer.
///
/// Its moments are ``ParameterSet``s with the model's layout, so a checkpoint saves them under the
/// same tensor names with an `optimizer.` prefix and a resumed run continues exactly.
public struct AdamOptimizer: Sendable, Equatable {
    /// Decay rate of the first moment, β₁ (default 0.9).
    public var beta1: Float
    /// Decay rate of the second moment, β₂ (default 0.999).
    public var beta2: Float
    /// The ε added to √v̂ in the update's denominator, against division by zero (default 1e-8).
    public var epsilon: Float
    /// First moment (mean of gradients).
    public var firstMoment: ParameterSet
    /// Second moment (mean of squared gradients).
    public var secondMoment: ParameterSet
    /// Number of updates applied so far; bias correction depends on it.
    public var stepCount: Int

    /// An optimizer with zero moments for parameters laid out as `layout`, before its first update.
    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = ParameterSet(zerosFor: layout)
        secondMoment = ParameterSet(zerosFor: layout)
        stepCount = 0
    }

    /// θ ← θ − lr · m̂ / (√v̂ + ε), one fused SIMD pass over every parameter (`ck_adam_update`).
    public mutating func update(_ parameters: inout ParameterSet, gradients: ParameterSet, learningRate: Float) {
        precondition(parameters.layout == gradients.layout && parameters.layout == firstMoment.layout)
        stepCount += 1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let correction1 = 1 - Float(pow(Double(b1), Double(stepCount)))
        let correction2 = 1 - Float(pow(Double(b2), Double(stepCount)))
        let stepSize = learningRate / correction1
        let correction2Root = correction2.squareRoot()
        parameters.values.withUnsafeMutableBufferPointer { theta in
            gradients.values.withUnsafeBufferPointer { g in
                firstMoment.values.withUnsafeMutableBufferPointer { m in
                    secondMoment.values.withUnsafeMutableBufferPointer { v in
                        ck_adam_update(theta.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!, theta.count,
                                       b1, b2, eps, stepSize, correction2Root)
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif

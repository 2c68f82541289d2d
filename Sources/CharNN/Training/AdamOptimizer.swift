/// Adam (Kingma & Ba) with bias correction, over the model's flat parameter buffer.
///
/// Its moments are ``ParameterSet``s with the model's layout, so a checkpoint saves them under the
/// same tensor names with an `optimizer.` prefix and a resumed run continues exactly.
public struct AdamOptimizer: Sendable, Equatable {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// First moment (mean of gradients).
    public var firstMoment: ParameterSet
    /// Second moment (mean of squared gradients).
    public var secondMoment: ParameterSet
    /// Number of updates applied so far; bias correction depends on it.
    public var stepCount: Int

    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = ParameterSet(zerosFor: layout)
        secondMoment = ParameterSet(zerosFor: layout)
        stepCount = 0
    }

    /// θ ← θ − lr · m̂ / (√v̂ + ε), one fused pass over every parameter.
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
                        for i in 0..<theta.count {
                            let gi = g[i]
                            let mi = b1 * m[i] + (1 - b1) * gi
                            let vi = b2 * v[i] + (1 - b2) * gi * gi
                            m[i] = mi
                            v[i] = vi
                            theta[i] -= stepSize * mi / (vi.squareRoot() / correction2Root + eps)
                        }
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif

import CKernels

/// All of a model's weights (or their gradients, or an optimizer moment) in one flat buffer with
/// named views. A value type: copying a model copies its weights (copy-on-write).
public struct ParameterSet: Sendable, Equatable {
    /// Names, shapes and offsets of the tensors inside ``values``.
    public let layout: ParameterLayout
    /// Every tensor's elements, back to back in the layout's order (``ParameterLayout/totalCount`` of them).
    public var values: [Float]

    /// All zeros, e.g. for gradients or Adam moments.
    public init(zerosFor layout: ParameterLayout) {
        self.layout = layout
        self.values = [Float](repeating: 0, count: layout.totalCount)
    }

    /// Wraps `values` in `layout`; throws ``ModelError/shapeMismatch(_:)`` unless there are exactly
    /// ``ParameterLayout/totalCount`` of them.
    public init(layout: ParameterLayout, values: [Float]) throws(ModelError) {
        guard values.count == layout.totalCount else {
            throw .shapeMismatch("expected \(layout.totalCount) parameter values, got \(values.count)")
        }
        self.layout = layout
        self.values = values
    }

    /// The values of one named tensor, copied out.
    public func tensor(_ name: String) -> [Float]? {
        guard let t = layout[name] else { return nil }
        return Array(values[t.range])
    }

    /// Replaces one named tensor's values.
    public mutating func setTensor(_ name: String, _ newValues: [Float]) throws(ModelError) {
        guard let t = layout[name] else { throw .shapeMismatch("no parameter named \(name)") }
        guard newValues.count == t.count else {
            throw .shapeMismatch("\(name) has \(t.count) values (shape \(t.shape)), got \(newValues.count)")
        }
        values.replaceSubrange(t.range, with: newValues)
    }

    /// Sets every value to zero without reallocating.
    public mutating func zero() {
        values.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// The Euclidean norm of all values together, accumulated in Double.
    public var globalNorm: Double {
        values.withUnsafeBufferPointer { ck_sum_squares($0.baseAddress!, $0.count).squareRoot() }
    }
}

extension ParameterSet {
    /// PyTorch-style initialization with charnn's forget-gate bias of 1.
    ///
    /// Embedding rows ~ N(0, 1) as `nn.Embedding`; recurrent and head weights ~ U(−1/√H, 1/√H) as
    /// `nn.LSTM` (`nn.GRU`, `nn.RNN`) and `nn.Linear`; biases 0 except, in an LSTM, the forget
    /// gate's slice of `bias_ih`, which is 1 so that early in training the cell keeps its memory
    /// and gradients flow through time.
    public static func initialized(for config: ModelConfig, using rng: inout RandomGenerator) -> ParameterSet {
        var set = ParameterSet(zerosFor: ParameterLayout(config: config))
        let bound = 1 / Float(config.hiddenSize).squareRoot()
        let h = config.hiddenSize
        set.values.withUnsafeMutableBufferPointer { values in
            for tensor in set.layout.tensors {
                let slice = UnsafeMutableBufferPointer(rebasing: values[tensor.range])
                switch tensor.role {
                case .embedding: for i in slice.indices { slice[i] = rng.nextGaussian() }
                case .weightIH, .weightHH, .headWeight: for i in slice.indices { slice[i] = (rng.nextUnitFloat() * 2 - 1) * bound }
                case .biasIH: if config.cell == .lstm { for i in h..<(2 * h) { slice[i] = 1 } }
                case .biasHH, .headBias: break
                }
            }
        }
        return set
    }
}

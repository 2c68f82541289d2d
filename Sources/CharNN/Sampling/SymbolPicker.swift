import CKernels

/// Chooses the next symbol from one row of logits: greedy, or sampled with temperature, top-k and
/// top-p, in one pass over the row and without allocating (the scratch buffers are made once).
package struct SymbolPicker {
    package let options: SamplingOptions
    private var order: [Int32]
    private var weights: [Double]

    package init(options: SamplingOptions, vocabularySize: Int) throws(SamplingError) {
        try options.validate()
        self.options = options
        order = [Int32](repeating: 0, count: vocabularySize)
        weights = [Double](repeating: 0, count: vocabularySize)
    }

    /// The index of the largest logit; the lowest index among equal maxima.
    package static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return best
    }

    /// Picks a symbol index from `logits` [V], drawing from `rng` unless greedy.
    package mutating func pick(_ logits: UnsafeBufferPointer<Float>, rng: inout RandomGenerator) -> Int {
        let V = logits.count
        let inverseTemperature = 1 / options.temperature
        // A temperature so small that 1/T overflows (1e-320) is greedy in the limit; computing
        // it would give 0 × ∞ = NaN weights and pick the last symbol every time.
        if options.argmax || options.topK == 1 || !inverseTemperature.isFinite { return Self.argmax(logits) }
        let top = Double(logits[Self.argmax(logits)])
        // Unnormalized probabilities exp((l − max) / T), in Double so low temperatures stay exact.
        var kept = V
        weights.withUnsafeMutableBufferPointer { w in
            order.withUnsafeMutableBufferPointer { o in
                for i in 0..<V {
                    w[i] = exp((Double(logits[i]) - top) * inverseTemperature)
                    o[i] = Int32(i)
                }
                guard options.topK != nil || options.topP != nil else { return }
                // Most likely first; equal weights keep index order, so top-k 1 equals argmax.
                o.sort { w[Int($0)] > w[Int($1)] || (w[Int($0)] == w[Int($1)] && $0 < $1) }
                if let k = options.topK { kept = min(k, V) }
                if let p = options.topP {
                    var total = 0.0
                    for r in 0..<kept { total += w[Int(o[r])] }
                    var cumulative = 0.0
                    for r in 0..<kept {
                        cumulative += w[Int(o[r])]
                        if cumulative >= p * total {
                            kept = r + 1
                            break
                        }
                    }
                }
            }
        }
        let sorted = options.topK != nil || options.topP != nil
        var total = 0.0
        for r in 0..<kept { total += weights[sorted ? Int(order[r]) : r] }
        var target = rng.nextUnitDouble() * total
        for r in 0..<kept {
            let i = sorted ? Int(order[r]) : r
            target -= weights[i]
            if target < 0 { return i }
        }
        return sorted ? Int(order[kept - 1]) : kept - 1  // rounding left a sliver: take the last kept
    }
}

#if canImport(Glibc)
    import Glibc
#endif

// Inverted dropout between LSTM layers: kept units are scaled by 1/(1-p) during training, so
// inference needs no rescaling and matches PyTorch's eval mode.

/// mask[n] = 0 with probability p, else 1/(1-p); out = x * mask        x, mask, out: [N]
func dropoutForward(
    out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
    count: Int, probability p: Float, rng: inout RandomGenerator
) {
    let keep = 1 / (1 - p)
    for n in 0..<count {
        let m: Float = rng.nextUnitFloat() < p ? 0 : keep
        mask[n] = m
        out[n] = x[n] * m
    }
}

/// d[n] *= mask[n], in place                                           d, mask: [N]
func dropoutBackward(d: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
    for n in 0..<count { d[n] *= mask[n] }
}

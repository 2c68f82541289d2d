// Inverted dropout between LSTM layers: kept units are scaled by 1/(1-p) during training, so
// inference needs no rescaling and matches PyTorch's eval mode.

/// mask = 0 with probability p, else 1/(1-p); out = x * mask      x, mask, out: [T·B, H]
/// Row t·B + b draws from `generators[b]` when there are B of them (one per stream), else from
/// `generators[0]`: with one generator the draws run in plain element order.
func dropoutForward(
    out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
    rows: Int, width: Int, probability p: Float, generators: UnsafeMutablePointer<RandomGenerator>, count: Int
) {
    let keep = dropoutScale(p)
    for row in 0..<rows {
        let rng = generators + (count == 1 ? 0 : row % count)
        for n in (row * width)..<((row + 1) * width) {
            let m: Float = rng.pointee.nextUnitFloat() < p ? 0 : keep
            mask[n] = m
            out[n] = x[n] * m
        }
    }
}

/// Locked (variational) dropout: one mask per stream for the whole chunk of T steps, so a dropped
/// unit stays dropped at every step, as in Gal & Ghahramani (2016) and AWD-LSTM. The mask is still
/// written out as [T·B, H], so ``dropoutBackward(d:mask:count:)`` serves both forms.
/// mask[t·B + b] = mask[b], drawn from `generators[b]` (one per stream) or all from `generators[0]`;
/// out = x * mask                                                     x, mask, out: [T·B, H]
func lockedDropoutForward(
    out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
    steps: Int, batch: Int, width: Int, probability p: Float, generators: UnsafeMutablePointer<RandomGenerator>, count: Int
) {
    // Step 0 draws as per-step dropout does (row b from generators[b]); the later steps reuse its mask.
    dropoutForward(out: out, mask: mask, x: x, rows: batch, width: width, probability: p, generators: generators, count: count)
    let first = batch * width
    for t in 1..<max(1, steps) { (mask + t * first).update(from: mask, count: first) }
    for n in first..<(steps * first) { out[n] = x[n] * mask[n] }
}

/// What kept units are multiplied by; shared by both forms of dropoutForward, so a test with
/// fixed masks checks the scale training uses.
@inline(__always) func dropoutScale(_ p: Float) -> Float { 1 / (1 - p) }

/// As above with the choice of dropped units given (`dropped[n]`) instead of drawn: a reference
/// implementation's masks, so a test can compare against it (``ModelWorkspace/fixedDropouts``).
func dropoutForward(
    out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
    count: Int, probability p: Float, dropped: [Bool]
) {
    let keep = dropoutScale(p)
    for n in 0..<count {
        mask[n] = dropped[n] ? 0 : keep
        out[n] = x[n] * mask[n]
    }
}

/// d[n] *= mask[n], in place                                           d, mask: [N]
func dropoutBackward(d: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
    for n in 0..<count { d[n] *= mask[n] }
}

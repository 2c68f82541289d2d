/// Global gradient-norm clipping: if ‖g‖ over all parameters exceeds `maxNorm`, every gradient is
/// scaled by maxNorm / ‖g‖, which keeps the update's direction and bounds its size.
///
/// Returns the norm before clipping, so the trainer can also stop on a non-finite gradient.
@discardableResult
package func clipGradientNorm(_ gradients: inout ParameterSet, maxNorm: Float) -> Double {
    let norm = gradients.globalNorm
    guard norm.isFinite, maxNorm > 0, norm > Double(maxNorm) else { return norm }
    let scale = Float(Double(maxNorm) / norm)
    gradients.values.withUnsafeMutableBufferPointer { g in
        for i in 0..<g.count { g[i] *= scale }
    }
    return norm
}

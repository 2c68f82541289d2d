import CKernels

/// A model run one symbol at a time by its owner, for ``Scorer`` to score: `reset` returns it to
/// the zero state, `step` feeds one symbol and returns the logits of the next, [V]. It lets a
/// computation that no ``CharModel`` expresses (the sampler's int8 step, which rounds its
/// activations at every step) be scored exactly as it runs.
package struct SymbolStepper {
    package let vocabularySize: Int
    package let reset: () -> Void
    package let step: (Int32) -> UnsafePointer<Float>

    package init(vocabularySize: Int, reset: @escaping () -> Void, step: @escaping (Int32) -> UnsafePointer<Float>) {
        self.vocabularySize = vocabularySize
        self.reset = reset
        self.step = step
    }
}

/// ``OnePassReader``'s loss (the first symbol context only, each later one predicted from all
/// before it) from a ``SymbolStepper``, one symbol per step.
final class SteppedReader {
    private let stepper: SymbolStepper
    private var logits: UnsafePointer<Float>?
    private let scratch: UnsafeMutablePointer<Float>  // [V]: the softmax, which the loss kernel writes
    private(set) var totalNats = 0.0
    private(set) var predictions = 0

    init(stepper: SymbolStepper) {
        self.stepper = stepper
        scratch = .allocate(capacity: max(1, stepper.vocabularySize))
        stepper.reset()
    }

    deinit { scratch.deallocate() }

    /// Scores each symbol against the logits left by the one before, then feeds it.
    func read(_ ids: some Sequence<Int32>) {
        let V = stepper.vocabularySize
        for id in ids {
            if let logits {
                var target = id
                var loss: Float = 0
                totalNats += ck_softmax_xent(logits, &target, scratch, &loss, 1, V, 1)
                predictions += 1
            }
            logits = stepper.step(id)
        }
    }
}

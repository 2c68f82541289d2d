import Dispatch

/// The streams of each half of a batch of `batch` streams: 0..<⌈B/2⌉ and ⌈B/2⌉..<B, or all of
/// them when B = 1. Training and validation split the same way, so validation can borrow the
/// training halves' workspaces.
func streamHalves(batch: Int) -> [Range<Int>] {
    let first = (batch + 1) / 2
    return batch >= 2 ? [0..<first, first..<batch] : [0..<batch]
}

/// Runs `body` on each of `halves` (at most two): both at once, one per core, when `threads` ≥ 2,
/// else one after the other; returns their results in order, or throws the first half's error.
/// Each half calls OpenBLAS from its own thread, so OpenBLAS is held to one thread meanwhile: its
/// own threads would only compete with the halves for the two cores.
func runHalves<Half>(_ halves: [Half], threads: Int,
                     _ body: (Half) throws(ModelError) -> Double) throws(ModelError) -> [Double] {
    precondition(halves.count <= 2)
    var results = [Result<Double, ModelError>](repeating: .success(0), count: halves.count)
    withoutActuallyEscaping(body) { body in
        results.withUnsafeMutableBufferPointer { buffer in
            let out = buffer
            let shared = HalfTask { n in out[n] = Result { () throws(ModelError) -> Double in try body(halves[n]) } }
            if halves.count == 2 {
                // One OpenBLAS thread either way: its sums depend on its thread count, and the two
                // halves must give the same bits whether they run at once or one after the other,
                // whatever count the process (or a concurrent caller) left set.
                // The lock withThreads holds keeps a concurrent caller from changing it meanwhile.
                OpenBLASRuntime.withThreads(1) {
                    if threads >= 2 {
                        DispatchQueue.concurrentPerform(iterations: 2) { shared.run($0) }
                    } else {
                        for n in halves.indices { shared.run(n) }
                    }
                }
            } else {
                for n in halves.indices { shared.run(n) }
            }
        }
    }
    return try results.map { (result) throws(ModelError) -> Double in try result.get() }
}

/// One half's work, handed to the second thread. The halves touch disjoint buffers (their own
/// workspaces, state and gradients, and their own slot of the results), which is what makes that safe.
private final class HalfTask: @unchecked Sendable {
    let run: (Int) -> Void
    init(_ run: @escaping (Int) -> Void) { self.run = run }
}

extension RecurrentState {
    /// Sets this state (of `range.count` streams) to streams `range` of `whole`, in place.
    mutating func load(streams range: Range<Int>, of whole: RecurrentState) {
        Self.copyStreams(from: whole, range.lowerBound, to: &self, 0, count: range.count)
    }

    /// Writes this state (of `range.count` streams) back as streams `range` of `whole`.
    func store(streams range: Range<Int>, into whole: inout RecurrentState) {
        Self.copyStreams(from: self, 0, to: &whole, range.lowerBound, count: range.count)
    }

    /// Copies `count` streams starting at stream `first` of `source`, every layer, to stream
    /// `firstTarget` onwards of `target`.
    private static func copyStreams(from source: RecurrentState, _ first: Int, to target: inout RecurrentState,
                                    _ firstTarget: Int, count: Int) {
        let width = count * source.hidden
        for k in 0..<source.layers {
            let from = (k * source.batch + first) * source.hidden, to = (k * target.batch + firstTarget) * target.hidden
            target.h.replaceSubrange(to..<(to + width), with: source.h[from..<(from + width)])
            target.c.replaceSubrange(to..<(to + width), with: source.c[from..<(from + width)])
        }
    }
}

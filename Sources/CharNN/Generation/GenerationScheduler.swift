import Foundation

/// Runs every generation of one model as a single batch (continuous batching): one thread owns a
/// batched ``InferenceStep`` and each step advances every running generation by one symbol.
/// Generations join and leave between steps, so a step costs what the generations running at that
/// moment need: N streams read the weights once, where N separate samplers would read them N times.
///
/// The thread starts with the first generation and sleeps while none runs. Live streams occupy the
/// first rows of the step; one that ends is replaced by the last row's stream, so the rows stay
/// packed. The scheduler is shared between threads; everything after `condition` is guarded by it,
/// and everything under "the scheduler thread's own" is touched by that thread alone.
final class GenerationScheduler: @unchecked Sendable {
    /// One generation: its sampling state, and where its symbols go.
    struct Stream {
        let id: Int
        var picker: SymbolPicker
        var rng: RandomGenerator
        /// Symbols still to generate.
        var remaining: Int
        /// The token fed at the next step: the prime's last symbol, then each symbol picked.
        var nextToken: Int32
        /// The state after the prime's other symbols, loaded into the stream's row on joining.
        var primeState: RecurrentState?
        let output: AsyncThrowingStream<String, any Error>.Continuation
    }

    /// The most generations that run at once.
    let capacity: Int
    private let condition = NSCondition()
    private var joining: [Stream] = []
    private var leaving: Set<Int> = []
    private var runningCount = 0
    private var draining = false
    private var stopped = false
    private var threadStarted = false
    private var nextID = 0
    private var symbolsGenerated = 0

    // The scheduler thread's own.
    private let step: InferenceStep
    private var running: [Stream] = []
    /// Outputs to end once the counts are published: (output, the error to end it with).
    private var ending: [(AsyncThrowingStream<String, any Error>.Continuation, (any Error)?)] = []
    private var tokens: [Int32]
    private let symbolTexts: [String]
    /// The threads a step over n rows uses, index n.
    private let threadsForRows: [Int]

    init(model: CharModel, tokenizer: Tokenizer, precision: SamplingPrecision, capacity: Int) throws {
        guard capacity >= 1 else { throw SamplingError.invalidOption(field: "capacity", problem: "must be at least 1, got \(capacity)") }
        self.capacity = capacity
        step = try InferenceStep(model: model, streams: capacity, precision: precision)
        tokens = [Int32](repeating: 0, count: capacity)
        symbolTexts = (0..<tokenizer.vocabulary.count).map { tokenizer.decode(CollectionOfOne($0)) }
        threadsForRows = (0...capacity).map {
            InferenceStep.recommendedThreads(for: model.config, precision: precision, streams: max(1, $0))
        }
    }

    /// Generations running or waiting to join.
    var activeCount: Int { condition.withLock { runningCount + joining.count } }

    /// Symbols generated so far, over all generations.
    var symbolCount: Int { condition.withLock { symbolsGenerated } }

    /// Queues a generation to join at the next step and returns where its symbols arrive. Throws
    /// ``GenerationError/busy(limit:)`` when `capacity` generations are already running, and
    /// ``GenerationError/shuttingDown`` after ``drain()``.
    func enqueue(picker: SymbolPicker, seed: UInt64, length: Int, firstToken: Int32,
                 primeState: RecurrentState?) throws(GenerationError) -> AsyncThrowingStream<String, any Error> {
        let (stream, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        condition.lock()
        defer { condition.unlock() }
        guard !draining && !stopped else { throw .shuttingDown }
        guard runningCount + joining.count < capacity else { throw .busy(limit: capacity) }
        let id = nextID
        nextID += 1
        joining.append(Stream(id: id, picker: picker, rng: RandomGenerator(seed: seed), remaining: length,
                              nextToken: firstToken, primeState: primeState, output: continuation))
        // A consumer that stops listening (a cancelled task, a dropped sequence) leaves at the next step.
        continuation.onTermination = { [weak self] _ in self?.cancel(id) }
        if !threadStarted {
            threadStarted = true
            let thread = Thread { [self] in run() }
            thread.name = "charnn-generation"
            thread.start()
        }
        condition.signal()
        return stream
    }

    /// Takes generation `id` out of the batch before the next step.
    private func cancel(_ id: Int) {
        condition.withLock {
            leaving.insert(id)
            condition.signal()
        }
    }

    /// Ends every generation, running or waiting, with ``GenerationError/shuttingDown`` at the next
    /// step, and refuses new ones from now on.
    func drain() {
        condition.withLock {
            draining = true
            condition.signal()
        }
    }

    /// As ``drain()``, and the thread exits once it has ended the generations.
    func stop() {
        condition.withLock {
            draining = true
            stopped = true
            condition.signal()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while joining.isEmpty && running.isEmpty && leaving.isEmpty && !stopped { condition.wait() }
            let arriving = joining, departing = leaving, drain = draining, stop = stopped
            // They count as running from here: until the next publish, enqueue would otherwise see
            // them in neither list and admit more generations than the batch has rows.
            runningCount += arriving.count
            joining.removeAll()
            leaving.removeAll()
            condition.unlock()

            if drain {
                for stream in arriving { stream.output.finish(throwing: GenerationError.shuttingDown) }
                remove(rows: Array(running.indices), finishing: GenerationError.shuttingDown)
                publish(produced: 0)
                if stop { return }
                continue
            }
            for var stream in arriving {
                step.load(stream.primeState, intoStream: running.count)
                stream.primeState = nil
                running.append(stream)
            }
            if !departing.isEmpty {
                remove(rows: running.indices.filter { departing.contains(running[$0].id) }, finishing: nil)
            }
            // A generation asked for 0 symbols ends before any step.
            remove(rows: running.indices.filter { running[$0].remaining <= 0 }, finishing: nil, finish: true)
            guard !running.isEmpty else {
                publish(produced: 0)
                continue
            }
            let rows = running.count
            for n in 0..<rows { tokens[n] = running[n].nextToken }
            step.threads = threadsForRows[rows]
            tokens.withUnsafeBufferPointer { step.step(UnsafeBufferPointer(rebasing: $0[0..<rows]), rows: rows) }
            var ended: [Int] = []
            let V = step.config.vocabularySize
            for n in 0..<rows {
                var rng = running[n].rng
                let token = running[n].picker.pick(UnsafeBufferPointer(start: step.logits + n * V, count: V), rng: &rng)
                running[n].rng = rng
                running[n].nextToken = Int32(token)
                running[n].remaining -= 1
                // A consumer that is gone makes `yield` report it at once.
                if case .terminated = running[n].output.yield(symbolTexts[token]) {
                    ended.append(n)
                } else if running[n].remaining == 0 {
                    ended.append(n)
                }
            }
            remove(rows: ended, finishing: nil, finish: true)
            publish(produced: rows)
        }
    }

    /// Takes `rows` out of the batch, moving the last rows' streams into the holes, and ends each
    /// one's output: with `error` if given, normally if `finish`, else not at all (its consumer
    /// already left).
    private func remove(rows: [Int], finishing error: (any Error)?, finish: Bool = false) {
        for row in rows.sorted(by: >) {
            let stream = running[row]
            if error != nil || finish { ending.append((stream.output, error)) }
            let last = running.count - 1
            if row != last {
                step.moveStream(from: last, to: row)
                running[row] = running[last]
            }
            running.removeLast()
        }
    }

    /// Makes the counts current, then ends the outputs of the streams that left: a consumer that
    /// sees its generation end also sees it gone from ``activeCount``.
    private func publish(produced: Int) {
        condition.withLock {
            runningCount = running.count
            symbolsGenerated += produced
        }
        for (output, error) in ending {
            if let error { output.finish(throwing: error) } else { output.finish() }
        }
        ending.removeAll(keepingCapacity: true)
    }
}

import Synchronization

/// Requests answered and refused since the server started; symbols are counted by the model.
final class ServerCounters: Sendable {
    private let requests = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    /// Counts one request; `status` 400 and up also counts it as refused.
    func record(status: Int) {
        requests.add(1, ordering: .relaxed)
        if status >= 400 { refused.add(1, ordering: .relaxed) }
    }

    var requestCount: Int { requests.load(ordering: .relaxed) }
    var refusedCount: Int { refused.load(ordering: .relaxed) }
}

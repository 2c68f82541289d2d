/// The symbols of one generation as they are made: an `AsyncSequence` of decoded symbols (one
/// grapheme, or one code point, per element, in the model's unit), which ends after the requested
/// length.
///
/// ```swift
/// for try await symbol in try model.generate(prime: "ROMEO:", length: 200, seed: 7) {
///     print(symbol, terminator: "")
/// }
/// ```
///
/// Cancelling the task that iterates stops the generation before its next symbol (the iteration
/// then throws `CancellationError`), and so does dropping the sequence: the model's batch goes on
/// without it. After ``LanguageModel/drain()`` the iteration throws ``GenerationError/shuttingDown``.
public struct GeneratedText: AsyncSequence, Sendable {
    /// One decoded symbol.
    public typealias Element = String
    /// The prime symbols the model never saw and that were left out (with `skipUnknown`).
    public let droppedPrimeSymbols: [String]
    let symbols: AsyncThrowingStream<String, any Error>

    /// The iterator; one per sequence, as the symbols are made once.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<String, any Error>.AsyncIterator

        /// The next symbol, or nil after the last; throws `CancellationError` when the task was cancelled.
        public mutating func next() async throws -> String? {
            guard let symbol = try await base.next() else {
                try Task.checkCancellation()
                return nil
            }
            return symbol
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: symbols.makeAsyncIterator()) }
}

/// How the next symbol is chosen from the model's predicted distribution.
public struct SamplingOptions: Sendable, Equatable {
    /// Divides the logits: below 1 sharpens the distribution (safer, more repetitive text), above 1
    /// flattens it (more surprising text). Must be finite and above 0.
    public var temperature: Double = 1
    /// Sample only among the K most likely symbols.
    public var topK: Int?
    /// Sample only among the most likely symbols whose probabilities add up to P (nucleus
    /// sampling), P in (0, 1].
    public var topP: Double?
    /// Always take the most likely symbol (greedy decoding); excludes the options above.
    public var argmax = false

    /// Options from their fields; the defaults sample from the model's distribution unchanged.
    /// Nothing is checked until ``validate()``.
    public init(temperature: Double = 1, topK: Int? = nil, topP: Double? = nil, argmax: Bool = false) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.argmax = argmax
    }

    /// Rejects values no sampler can use, naming the field.
    public func validate() throws(SamplingError) {
        guard temperature.isFinite && temperature > 0 else {
            throw .invalidOption(field: "temperature", problem: "must be a finite number above 0, got \(temperature)")
        }
        if let topK, topK < 1 { throw .invalidOption(field: "topK", problem: "must be at least 1, got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw .invalidOption(field: "topP", problem: "must be in (0, 1], got \(topP)") }
    }
}

/// Why sampling or scoring cannot proceed; each description is one line. Fields are named by
/// their property names (``SamplingOptions``' `temperature`, `topK`, `topP`; ``Sampler``'s
/// `streams` and `skipUnknown`); ``describe(naming:)`` lets a front end use its own names.
public enum SamplingError: Error, Equatable, CustomStringConvertible {
    /// `field` is out of range; `problem` says how.
    case invalidOption(field: String, problem: String)
    /// The prime text holds these symbols, which are not in the model's vocabulary.
    case unknownPrimeSymbols([String])
    /// There is no checkpoint to sample or score with; the string is the whole message.
    case noCheckpoint(String)

    /// The one-line message, naming fields by their property names.
    public var description: String { describe(naming: { $0 }) }

    /// The one-line message, with each field named by `name(field)`.
    public func describe(naming name: (String) -> String) -> String {
        switch self {
        case .invalidOption(let field, let problem): return "\(name(field)) \(problem)"
        case .unknownPrimeSymbols(let symbols):
            let shown = symbols.prefix(10).map { SymbolEscaping.quoted($0) }.joined(separator: ", ")
            let more = symbols.count > 10 ? " and \(symbols.count - 10) more" : ""
            return "the prime text has \(symbols.count) symbol(s) the model never saw: \(shown)\(more); pass \(name("skipUnknown")) to leave them out"
        case .noCheckpoint(let what): return what
        }
    }
}

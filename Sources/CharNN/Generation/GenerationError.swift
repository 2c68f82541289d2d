/// Why a generation could not start or did not run to its length; each description is one line.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// `limit` generations are already running on this model.
    case busy(limit: Int)
    /// The model is shutting down (``LanguageModel/drain()``): new generations are refused and
    /// running ones end early with this error.
    case shuttingDown
    /// `length` is below 0.
    case invalidLength(Int)

    /// The one-line message.
    public var description: String {
        switch self {
        case .busy(let limit): "\(limit) generations are already running, the most this model runs at once; try again shortly"
        case .shuttingDown: "the model is shutting down and generates no more"
        case .invalidLength(let length): "length must be 0 or more, got \(length)"
        }
    }
}

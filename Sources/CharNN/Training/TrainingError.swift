/// Why training cannot start or go on (the run directory's own failures are ``RunError``s); every description is one line naming the option or file.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case invalidOption(String)
    case corpusTooSmall(symbols: Int, batch: Int, steps: Int)
    case nonFiniteLoss(step: Int, what: String)
    case incompatibleResume(String)
    /// The corpus file at `path` cannot be trained on: empty, only whitespace, too small.
    case unusableCorpus(path: String, problem: String)

    public var description: String {
        switch self {
        case .invalidOption(let what): return what
        case .corpusTooSmall(let n, let b, let t):
            // One batch needs B streams of T + 1 symbols; suggest the largest B or T that fits.
            var fits: [String] = []
            if n > t { fits.append("--batch \((n - 1) / t) (with --seq \(t))") }
            if n > b { fits.append("--seq \((n - 1) / b) (with --batch \(b))") }
            let suggestion = fits.isEmpty ? "use a longer text" : "try " + fits.joined(separator: " or ")
            return "the training text has \(n) symbols, too few for one batch of \(b) streams of \(t + 1) symbols (--batch \(b) --seq \(t)); \(suggestion)"
        case .nonFiniteLoss(let step, let what):
            return "\(what) became non-finite at step \(step); the last good checkpoint is kept. try a lower --lr or tighter clipping (a smaller --clip)"
        case .incompatibleResume(let what): return "--resume: \(what)"
        case .unusableCorpus(let path, let problem): return "\(path): \(problem)"
        }
    }
}

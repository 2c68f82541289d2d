/// Why training cannot start or go on (the run directory's own failures are ``RunError``s).
///
/// Errors name the ``TrainingOptions`` field at fault by its property name (`sequenceLength`,
/// `learningRate`); ``describe(naming:)`` lets a front end put its own names there (the CLI's
/// `--seq`, `--lr`). ``description`` uses the property names.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// `field` (a ``TrainingOptions`` property) is out of range; `problem` says how, e.g.
    /// "must be at least 1, got 0".
    case invalidOption(field: String, problem: String)
    /// The activations of one batch would not fit in any machine's memory.
    case modelTooLarge(batch: Int, sequenceLength: Int, hiddenSize: Int, layers: Int)
    /// The training text (the file at `path`, when known) cannot fill one batch.
    case corpusTooSmall(symbols: Int, batch: Int, sequenceLength: Int, path: String? = nil)
    /// Update number `step` produced a non-finite value; `what` is "the loss" or "the gradient".
    /// The trainer was left as it was before that step.
    case nonFiniteLoss(step: Int, what: String)
    /// The checkpoint cannot continue on this corpus or lacks what resuming needs.
    case incompatibleResume(String)
    /// The corpus file at `path` cannot be trained on: empty, only whitespace, too small.
    case unusableCorpus(path: String, problem: String)
    /// Fine-tuning: the corpus at `path` holds `symbols` (each once, in text order) that the
    /// vocabulary of the model at `model` lacks.
    case symbolsNotInModel(path: String, model: String, symbols: [String])
    /// Fine-tuning: the model cannot start a run with these options or on this data; the string says why.
    case incompatibleModel(String)

    /// The one-line message, naming fields by their ``TrainingOptions`` property names.
    public var description: String { describe(naming: { $0 }) }

    /// The one-line message, with each field or option named by `name(field)`. Fields are
    /// ``TrainingOptions`` property names, plus `resume` for continuing a run and `initFrom` and
    /// `extendVocabulary` for starting from a trained model.
    public func describe(naming name: (String) -> String) -> String {
        switch self {
        case .invalidOption(let field, let problem): return "\(name(field)) \(problem)"
        case .modelTooLarge(let b, let t, let h, let l):
            return "\(name("batch")) \(b) \(name("sequenceLength")) \(t) \(name("hiddenSize")) \(h) \(name("layers")) \(l) need more memory than any machine has; choose smaller sizes"
        case .corpusTooSmall(let n, let b, let t, let path):
            // One batch needs B streams of T + 1 symbols; suggest the largest B or T that fits.
            var fits: [String] = []
            if n > t { fits.append("\(name("batch")) \((n - 1) / t) (with \(name("sequenceLength")) \(t))") }
            if n > b { fits.append("\(name("sequenceLength")) \((n - 1) / b) (with \(name("batch")) \(b))") }
            let suggestion = fits.isEmpty ? "use a longer text" : "try " + fits.joined(separator: " or ")
            return (path.map { "\($0): " } ?? "") + "the training text has \(n) symbols, too few for one batch of \(b) streams of \(t + 1) symbols (\(name("batch")) \(b) \(name("sequenceLength")) \(t)); \(suggestion)"
        case .nonFiniteLoss(let step, let what):
            return "\(what) became non-finite at step \(step); the last good checkpoint is kept. try a lower \(name("learningRate")) or tighter clipping (a smaller \(name("clip")))"
        case .incompatibleResume(let what): return "\(name("resume")): \(what)"
        case .unusableCorpus(let path, let problem): return "\(path): \(problem)"
        case .symbolsNotInModel(let path, let model, let symbols):
            // All of them on the one line, up to a point past which a list stops helping.
            let shown = symbols.prefix(40).map(SymbolEscaping.quoted).joined(separator: " ")
            let more = symbols.count > 40 ? " and \(symbols.count - 40) more" : ""
            let noun = symbols.count == 1 ? "symbol" : "symbols"
            return "\(path): \(symbols.count) \(noun) not in the vocabulary of \(model): \(shown)\(more); \(name("extendVocabulary")) adds them to the model"
        case .incompatibleModel(let what): return "\(name("initFrom")): \(what)"
        }
    }
}

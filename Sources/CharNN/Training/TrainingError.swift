/// Why training cannot start or go on; every description is one line naming the option or file.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case invalidOption(String)
    case corpusTooSmall(symbols: Int, batch: Int, steps: Int)
    case nonFiniteLoss(step: Int, what: String)
    case runDirectoryExists(String)
    case noCheckpointToResume(String)
    case incompatibleResume(String)
    /// Another process holds the run directory's lock; `pid` is its process id when known.
    case runInUse(path: String, pid: Int32?)
    /// The corpus file at `path` cannot be trained on: empty, only whitespace, too small.
    case unusableCorpus(path: String, problem: String)
    /// Writing a checkpoint failed (a full disk, a quota); the last one written is intact.
    case saveFailed(FileWriteError, keptStep: Int?)
    /// The run directory was deleted or replaced while training; the state was saved to a
    /// recreated directory at `step`.
    case runDirectoryVanished(path: String, step: Int)

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
        case .runDirectoryExists(let path):
            return "\(path) already holds a run; pass --resume to continue it or --force to start afresh"
        case .noCheckpointToResume(let path): return "--resume: no checkpoint to resume in \(path)"
        case .incompatibleResume(let what): return "--resume: \(what)"
        case .runInUse(let path, let pid):
            let holder = pid.map { "charnn process \($0)" } ?? "another charnn process"
            return "\(path) is in use by \(holder) (lock file \(path)/\(RunLock.fileName)); wait for it to finish, or stop it, or use another --out"
        case .unusableCorpus(let path, let problem): return "\(path): \(problem)"
        case .saveFailed(let error, let kept):
            let previous = kept.map { "the previous checkpoint (step \($0)) is intact" } ?? "no earlier checkpoint of this run exists"
            return "\(error.description); \(previous). Free some space, then continue with --resume"
        case .runDirectoryVanished(let path, let step):
            return "\(path) was deleted during training; recreated it and saved step \(step) to latest.safetensors (earlier log records and best.safetensors are lost). Continue with --resume"
        }
    }
}

/// Why a training run cannot use its run directory or save into it; every description is one
/// line naming the path and what to do. Like ``TrainingError``, ``describe(naming:)`` lets a
/// front end name the settings its own way: `directory` (the run directory), `resume` and `force`
/// (``RunDirectory/OpenMode``).
public enum RunError: Error, Equatable, CustomStringConvertible {
    /// The run directory cannot be created, locked or written; the message says why.
    case unusableDirectory(String)
    /// The directory at this path already holds a run, and neither resuming nor forcing was asked for.
    case runDirectoryExists(String)
    /// Resuming was asked for, but the directory at this path has no `latest.safetensors`.
    case noCheckpointToResume(String)
    /// Another process holds the run directory's lock; `pid` is its process id when known.
    case runInUse(path: String, pid: Int32?)
    /// Writing a checkpoint failed (a full disk, a quota); the last one written is intact.
    case saveFailed(FileWriteError, keptStep: Int?)
    /// The run directory was deleted or replaced while training; the state was saved to a
    /// recreated directory at `step`.
    case runDirectoryVanished(path: String, step: Int)

    /// The one-line message, naming settings `directory`, `resume` and `force`.
    public var description: String { describe(naming: { $0 }) }

    /// The one-line message, with each setting named by `name(setting)`.
    public func describe(naming name: (String) -> String) -> String {
        switch self {
        case .unusableDirectory(let what): return "\(name("directory")): \(what)"
        case .runDirectoryExists(let path):
            return "\(path) already holds a run; pass \(name("resume")) to continue it or \(name("force")) to start afresh"
        case .noCheckpointToResume(let path): return "\(name("resume")): no checkpoint to resume in \(path)"
        case .runInUse(let path, let pid):
            let holder = pid.map { "charnn process \($0)" } ?? "another charnn process"
            return "\(path) is in use by \(holder) (lock file \(path)/\(RunLock.fileName)); wait for it to finish, or stop it, or use another \(name("directory"))"
        case .saveFailed(let error, let kept):
            let previous = kept.map { "the previous checkpoint (step \($0)) is intact" } ?? "no earlier checkpoint of this run exists"
            return "\(error.description); \(previous). Free some space, then continue with \(name("resume"))"
        case .runDirectoryVanished(let path, let step):
            return "\(path) was deleted during training; recreated it and saved step \(step) to latest.safetensors (earlier log records and best.safetensors are lost). Continue with \(name("resume"))"
        }
    }
}

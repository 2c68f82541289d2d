import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The files of one training run: `latest.safetensors`, `best.safetensors`, `log.jsonl` and
/// `loss.svg` in one directory (by default `checkpoints/<corpus file stem>/`), and while a run
/// is writing to it, `train.lock` (see `RunLock`).
public struct RunDirectory: Sendable {
    /// The directory's path, as given.
    public let path: String

    /// The run directory at `path`; nothing is created or checked until the run prepares it.
    public init(path: String) { self.path = path }

    /// `checkpoints/<stem>` for a corpus path, e.g. `checkpoints/tinyshakespeare` for
    /// `data/tinyshakespeare.txt`, and `checkpoints/stdin` for `-` (standard input).
    public static func defaultPath(forCorpus corpus: String) -> String {
        if corpus == TextFile.standardInputPath { return "checkpoints/stdin" }
        let name = URL(fileURLWithPath: corpus).deletingPathExtension().lastPathComponent
        return "checkpoints/" + (name.isEmpty ? "run" : name)
    }

    /// Path of `latest.safetensors`, the full checkpoint a run saves every `saveEvery` steps and when it stops.
    public var latest: String { path + "/latest.safetensors" }
    /// Path of `best.safetensors`, the full checkpoint with the lowest validation loss so far.
    public var best: String { path + "/best.safetensors" }
    /// Path of `log.jsonl`, one ``EvaluationRecord`` per line for each validation pass.
    public var log: String { path + "/log.jsonl" }
    /// Path of `loss.svg`, the training and validation loss plot, redrawn after each validation pass.
    public var plot: String { path + "/loss.svg" }
    /// Path of the lock file that marks the directory as in use by a training process.
    public var lockFile: String { path + "/" + RunLock.fileName }

    private var runFiles: [String] { [latest, best, log, plot] }

    /// True when the directory already holds any file of a run.
    public var holdsRun: Bool {
        runFiles.contains { FileManager.default.fileExists(atPath: $0) }
    }

    /// How an existing run directory is treated.
    public enum OpenMode: Sendable {
        /// Start a new run; refused (``RunError/runDirectoryExists(_:)``) if the directory holds one.
        case fresh
        /// Continue the run in the directory; refused (``RunError/noCheckpointToResume(_:)``)
        /// without its `latest.safetensors`.
        case resume
        /// Start a new run, deleting the previous run's checkpoints, log and plot.
        case force
    }

    /// Creates the directory, locks it against other `charnn train` processes, and checks it
    /// against the mode; never deletes anything but, with `.force`, the four files of the previous
    /// run, and stray temporaries of writes a killed process never finished.
    ///
    /// The lock is held until the returned `RunLock` is released or freed, so keep it for as
    /// long as the run writes here. It is taken before the mode is checked, so two processes
    /// racing with `--force` cannot both clear the directory.
    @discardableResult
    package func prepare(_ mode: OpenMode) throws -> RunLock {
        var isDirectory: ObjCBool = false
        let existed = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if existed, !isDirectory.boolValue {
            throw RunError.unusableDirectory("\(path) exists and is not a directory")
        }
        // The directories about to be made, deepest first: `--out a/b/run` may create a/ and a/b/ too.
        var created: [String] = []
        var missing = (path as NSString).standardizingPath
        while !missing.isEmpty, missing != "/", !FileManager.default.fileExists(atPath: missing) {
            created.append(missing)
            missing = (missing as NSString).deletingLastPathComponent
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RunError.unusableDirectory("cannot create \(path): \(error.localizedDescription)")
        }
        let lock = try RunLock.acquire(directory: path)
        do {
            switch mode {
            case .fresh:
                if holdsRun { throw RunError.runDirectoryExists(path) }
            case .resume:
                guard FileManager.default.fileExists(atPath: latest) else { throw RunError.noCheckpointToResume(path) }
            case .force:
                for file in runFiles { try? FileManager.default.removeItem(atPath: file) }
            }
        } catch {
            lock.release()
            // Leave no empty directory behind for a run that never started.
            Self.removeIfEmpty(created)
            throw error
        }
        removeStrayTemporaries()
        lock.createdDirectories = created
        return lock
    }

    /// Releases `lock` for a run that never started, and removes the directories `prepare`
    /// created for it (the run directory and any new parents) that are still empty.
    package func abandon(_ lock: RunLock) {
        lock.release()
        Self.removeIfEmpty(lock.createdDirectories)
    }

    /// rmdir of each, deepest first; it removes only empty directories, so nothing else goes.
    private static func removeIfEmpty(_ directories: [String]) {
        for directory in directories { rmdir(directory) }
    }

    /// Deletes `.<file>.tmp-<pid>` files that `AtomicFile` left when its process was killed
    /// mid-write. Only called with the lock held, so no live charnn train is writing them.
    private func removeStrayTemporaries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        let prefixes = runFiles.map { "." + URL(fileURLWithPath: $0).lastPathComponent + ".tmp-" }
        for name in names {
            guard let prefix = prefixes.first(where: { name.hasPrefix($0) }), let pid = Int32(name.dropFirst(prefix.count)) else { continue }
            // Another process writing here without the lock (charnn export into a run directory)
            // is left alone while it lives.
            if pid != getpid() && kill(pid, 0) == 0 { continue }
            unlink(path + "/" + name)
        }
    }
}

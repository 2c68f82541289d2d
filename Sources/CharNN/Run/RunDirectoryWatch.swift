import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Notices a run directory being deleted or replaced while a run writes to it (`rm -rf` by
/// mistake, a cleanup job), and puts it back so no training is lost.
///
/// Checked before every write. When the directory (or the lock file in it) is no longer the one
/// the run started with, ``ensureIntact(step:save:)`` recreates it, takes the lock again, saves
/// the model there, and stops the run with ``TrainingError/runDirectoryVanished(path:step:)``:
/// the log and plot kept in memory are partial, so carrying on silently would leave a run that
/// looks whole but is not.
final class RunDirectoryWatch {
    let directory: RunDirectory
    private(set) var lock: RunLock?
    /// The directory's device and inode at the start.
    private let identity: [UInt64]?

    init(directory: RunDirectory, lock: RunLock?) {
        self.directory = directory
        self.lock = lock
        identity = Self.identity(of: directory.path)
    }

    /// True while the directory and its lock file are the ones the run started with.
    var isIntact: Bool {
        identity == nil || (Self.identity(of: directory.path) == identity && (lock?.isIntact ?? true))
    }

    /// Returns if the directory is intact; otherwise recreates it, calls `save` to write the
    /// model into it, and throws ``TrainingError/runDirectoryVanished(path:step:)``.
    func ensureIntact(step: Int, save: () throws -> Void) throws {
        if isIntact { return }
        // A recursive delete may still be under way and remove what is recreated here, so try a
        // few times, a moment apart.
        var attempt = 0
        while true {
            do {
                try recreate(save: save)
                break
            } catch {
                if let busy = error as? RunError, case .runInUse = busy { throw busy }
                attempt += 1
                if attempt == 5 { throw error }
            }
            usleep(200_000)
        }
        throw RunError.runDirectoryVanished(path: directory.path, step: step)
    }

    private func recreate(save: () throws -> Void) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        } catch {
            throw RunError.unusableDirectory("\(directory.path) was deleted during training and cannot be recreated: \(error.localizedDescription)")
        }
        if lock != nil {
            lock?.release()
            // Throws runInUse if another run has taken the directory over meanwhile: then it is
            // not ours to write into.
            lock = try RunLock.acquire(directory: directory.path)
        }
        do { try save() } catch let error as FileWriteError {
            throw RunError.saveFailed(error, keptStep: nil)
        }
        // Still there after the write: the deletion is over.
        guard FileManager.default.fileExists(atPath: directory.latest) else {
            throw RunError.unusableDirectory("\(directory.path) keeps being deleted; cannot save into it")
        }
    }

    private static func identity(of path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }
}

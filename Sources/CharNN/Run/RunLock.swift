#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a run directory, held while `charnn train` writes to it, so that a second
/// `charnn train` on the same directory refuses instead of interleaving checkpoints and logs.
///
/// The lock is `flock(2)` on `<run>/train.lock`, a file that holds the holder's pid for the
/// message the second process prints. The kernel drops a flock when its holder dies, even by
/// SIGKILL, so a lock file left behind is recognized as stale by simply being lockable: no pid
/// liveness guess (pids are reused) is involved. A stale file is taken over, and its pid reported.
package final class RunLock {
    /// The lock file's name inside the run directory.
    package static let fileName = "train.lock"

    /// The lock file's path.
    package let path: String
    /// The pid found in a stale lock file that was taken over (its holder died without
    /// releasing it), or nil when the file was new or released cleanly.
    package let staleHolder: Int32?
    private var fd: Int32
    /// The directories ``RunDirectory/prepare(_:)`` created for this lock, the run directory first
    /// and its new parents after it, so abandoning the run may remove them again.
    var createdDirectories: [String] = []

    private init(path: String, fd: Int32, staleHolder: Int32?) {
        self.path = path
        self.fd = fd
        self.staleHolder = staleHolder
    }

    deinit { release() }

    /// Takes the lock of `directory` (which must exist), or throws
    /// ``RunError/runInUse(path:pid:)`` when another process holds it.
    package static func acquire(directory: String) throws(RunError) -> RunLock {
        let path = directory + "/" + fileName
        var recreations = 0
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            // A run on the same directory that failed before it started removes the directory it
            // made (RunDirectory.abandon), possibly just after this process saw it exist: make it again.
            if fd < 0, errno == ENOENT, recreations < 100 {
                recreations += 1
                mkdir(directory, 0o755)
                continue
            }
            guard fd >= 0 else { throw .unusableDirectory("cannot create the lock file \(path): \(systemError())") }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let code = errno
                let holder = readPID(fd)
                close(fd)
                if code == EWOULDBLOCK { throw .runInUse(path: directory, pid: holder) }
                throw .unusableDirectory("cannot lock \(path): \(String(cString: strerror(code)))")
            }
            // The holder we waited on may have unlinked the file as it released it; then we hold a
            // lock on an orphan and a third process could lock a new file at the path. Retry.
            guard sameFile(fd, path) else {
                close(fd)
                continue
            }
            let previous = readPID(fd)
            var record = Array("\(getpid())\n".utf8)
            ftruncate(fd, 0)
            _ = pwrite(fd, &record, record.count, 0)
            return RunLock(path: path, fd: fd, staleHolder: previous)
        }
    }

    /// True while the lock file at ``path`` is still the one this lock holds: false once the run
    /// directory (and the file in it) was deleted or replaced.
    package var isIntact: Bool { fd >= 0 && Self.sameFile(fd, path) }

    /// Removes the lock file and releases the lock; called by `deinit` too.
    package func release() {
        guard fd >= 0 else { return }
        // Unlink while still holding the lock, so nobody can lock the old file and believe it current.
        if Self.sameFile(fd, path) { unlink(path) }
        close(fd)
        fd = -1
    }

    private static func sameFile(_ fd: Int32, _ path: String) -> Bool {
        var open = stat(), named = stat()
        return fstat(fd, &open) == 0 && stat(path, &named) == 0 && open.st_ino == named.st_ino && open.st_dev == named.st_dev
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[..<n], as: UTF8.self).split(whereSeparator: \.isWhitespace).first
        return text.flatMap { Int32($0) }
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}

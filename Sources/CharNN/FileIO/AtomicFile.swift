#if canImport(Glibc)
    import Glibc
#endif

/// Why a file could not be written; the description names the path and the system's reason.
public struct FileWriteError: Error, Equatable, CustomStringConvertible {
    /// The file that could not be written.
    public let path: String
    /// What failed and the system's reason, e.g. "write failed: No space left on device".
    public let reason: String
    /// The one-line message: the path, then the reason.
    public var description: String { "\(path): cannot write: \(reason)" }
}

/// Writes a whole file so that, at every instant, the path holds either its previous contents or
/// the complete new ones: write a temporary file in the same directory, fsync it, rename it over
/// the target, fsync the directory. A crash, a full disk or SIGKILL at any moment leaves the
/// previous file whole (at worst a stray temporary, which the next write replaces).
package enum AtomicFile {
    /// Failures to inject into this task's saves, for tests (FaultInjectionTests): a full disk or
    /// an I/O error at a chosen write or at fsync, which no unprivileged test can cause for real.
    /// A task-local, so tests running in parallel never see each other's faults; nil (always, in
    /// charnn itself) leaves the system calls untouched.
    package struct InjectedFaults: Sendable {
        /// At most this many bytes per write(2), so a save takes many writes (short writes are
        /// legal and the loop must carry on after them).
        package var bytesPerWrite: Int
        /// The 1-based write that fails, if any.
        package var failingWrite: Int?
        /// Whether fsync of the temporary fails.
        package var failFsync = false
        /// The errno the failing call sets: ENOSPC, EIO…
        package var error: Int32

        package init(bytesPerWrite: Int, failingWrite: Int? = nil, failFsync: Bool = false, error: Int32) {
            (self.bytesPerWrite, self.failingWrite, self.failFsync, self.error) = (bytesPerWrite, failingWrite, failFsync, error)
        }
    }

    @TaskLocal package static var injectedFaults: InjectedFaults?

    public static func write(_ bytes: [UInt8], to path: String) throws(FileWriteError) {
        let directory = parentDirectory(of: path)
        let name = String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        let temporary = directory + "/." + name + ".tmp-\(getpid())"
        func fail(_ what: String) -> FileWriteError {
            FileWriteError(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create \(temporary)") }
        var ok = false
        defer {
            if !ok {
                close(fd)
                unlink(temporary)
            }
        }
        let faults = injectedFaults
        var written = 0, writes = 0
        while written < bytes.count {
            writes += 1
            let n: Int
            if let faults {
                if writes == faults.failingWrite {
                    errno = faults.error
                    n = -1
                } else {
                    n = bytes.withUnsafeBytes { raw in
                        Glibc.write(fd, raw.baseAddress! + written, min(raw.count - written, faults.bytesPerWrite))
                    }
                }
            } else {
                n = bytes.withUnsafeBytes { raw in
                    Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                }
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write failed")
            }
            written += n
        }
        if faults?.failFsync == true { errno = faults!.error; throw fail("fsync failed") }
        guard fsync(fd) == 0 else { throw fail("fsync failed") }
        ok = true
        guard close(fd) == 0 else {
            unlink(temporary)
            throw fail("close failed")
        }
        guard rename(temporary, path) == 0 else {
            let error = fail("rename failed")
            unlink(temporary)
            throw error
        }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            // The rename is durable only once the directory entry is on disk.
            fsync(dirFD)
            close(dirFD)
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

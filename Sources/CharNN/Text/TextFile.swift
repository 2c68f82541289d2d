#if canImport(Glibc)
import Glibc

/// POSIX read(2), named apart from ``TextFile/read(atPath:)``.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    Glibc.read(fd, buffer, count)
}
#elseif canImport(Darwin)
import Darwin

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    Darwin.read(fd, buffer, count)
}
#endif

/// Reads whole files as bytes, with errors that name the path and say what is wrong in one
/// line (Foundation's errors on Linux are long and vary between versions).
///
/// The path `-` means standard input, read to its end; errors then name "standard input".
@_spi(Internals) public enum TextFile {
    /// The path that stands for standard input.
    public static let standardInputPath = "-"

    /// How errors and reports name `path`: "standard input" for `-`, else the path itself.
    public static func displayName(_ path: String) -> String {
        path == standardInputPath ? "standard input" : path
    }

    /// The bytes of the file at `path`, or of standard input for `-`.
    ///
    /// - Throws: ``TextError/fileNotFound(path:)``, ``TextError/isDirectory(path:)`` or
    ///   ``TextError/unreadable(path:reason:)``.
    public static func read(atPath path: String) throws(TextError) -> [UInt8] {
        let isStandardInput = path == standardInputPath
        let name = displayName(path)
        let fd = isStandardInput ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw error(errno, name) }
        defer { if !isStandardInput { close(fd) } }
        var info = stat()
        if fstat(fd, &info) != 0 { throw error(errno, name) }
        if info.st_mode & S_IFMT == S_IFDIR { throw .isDirectory(path: name) }
        // `/dev/zero` or `/dev/urandom` would be read until memory runs out, and a disk device
        // is no text file either. Pipes stay allowed: `charnn vocab /dev/stdin < file` works,
        // and so does typing into `-` on a terminal (read until Ctrl-D).
        let isTerminal = isStandardInput && isatty(fd) != 0
        if (info.st_mode & S_IFMT == S_IFCHR && !isTerminal) || info.st_mode & S_IFMT == S_IFBLK {
            throw .unreadable(path: name, reason: "it is a device, not a text file")
        }

        // Read into exactly the file's size, so the corpus costs its size and no more; then
        // keep reading in case the file grew or reports no size (pipes, /proc).
        let size = max(Int(info.st_size), 0)
        var readError: Int32 = 0
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            while initialized < size {
                let got = systemRead(fd, buffer.baseAddress! + initialized, size - initialized)
                if got < 0 && errno == EINTR { continue }
                if got < 0 { readError = errno; return }
                if got == 0 { return }
                initialized += got
            }
        }
        var extra = [UInt8](repeating: 0, count: 1 << 16)
        while readError == 0 {
            let got = extra.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { readError = errno; break }
            if got == 0 { break }
            bytes.append(contentsOf: extra[..<got])
        }
        if readError != 0 { throw error(readError, name) }
        return bytes
    }

    /// The bytes of the text file at `path` (standard input for `-`): as ``read(atPath:)``, and also refused with
    /// ``TextError/notText(path:reason:)`` when they are plainly binary or UTF-16 (see
    /// `BinarySniffer`).
    public static func readText(atPath path: String) throws(TextError) -> [UInt8] {
        let bytes = try read(atPath: path)
        try BinarySniffer.check(bytes, path: displayName(path))
        return bytes
    }

    private static func error(_ code: Int32, _ path: String) -> TextError {
        switch code {
        case ENOENT, ENOTDIR: return .fileNotFound(path: path)
        case EISDIR: return .isDirectory(path: path)
        default: return .unreadable(path: path, reason: String(cString: strerror(code)).lowercased())
        }
    }
}

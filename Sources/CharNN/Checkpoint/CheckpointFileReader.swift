#if canImport(Glibc)
    import Glibc
#endif

/// Reads a checkpoint file's bytes, refusing what cannot be one before reading it whole.
///
/// `Data(contentsOf:)` would read a FIFO or `/dev/zero` forever and read a 50 GB video whole
/// before noticing it is not a checkpoint. Here the file must be a regular file, and its first
/// eight bytes (the safetensors header length) must fit the file, before the rest is read.
enum CheckpointFileReader {
    static func read(_ path: String) throws(CheckpointError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw failure(path, errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure(path, errno) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .unreadable(path: path, reason: "it is a directory")
        default: throw .unreadable(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: min(size, 8))
        try readFully(fd, into: &bytes, from: 0, path: path)
        if size >= 8 {
            let length = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            guard length <= UInt64(SafeTensorsFile.maximumHeaderLength), length <= UInt64(size - 8) else {
                throw .notSafeTensors(path: path, reason: SafeTensorsError.headerLength(length, fileSize: size).description)
            }
            bytes += [UInt8](repeating: 0, count: size - 8)
            try readFully(fd, into: &bytes, from: 8, path: path)
        }
        return bytes
    }

    private static func readFully(_ fd: Int32, into bytes: inout [UInt8], from start: Int, path: String) throws(CheckpointError) {
        var offset = start
        var failed: Int32 = 0
        bytes.withUnsafeMutableBytes { raw in
            while offset < raw.count {
                let n = pread(fd, raw.baseAddress! + offset, raw.count - offset, off_t(offset))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failed = errno; return }
                if n == 0 { failed = -1; return }
                offset += n
            }
        }
        if failed == -1 { throw .unreadable(path: path, reason: "the file shrank while being read") }
        if failed != 0 { throw failure(path, failed) }
    }

    private static func failure(_ path: String, _ code: Int32) -> CheckpointError {
        switch code {
        case ENOENT, ENOTDIR: .unreadable(path: path, reason: "no such file")
        case EACCES, EPERM: .unreadable(path: path, reason: "permission denied")
        case EISDIR: .unreadable(path: path, reason: "it is a directory")
        default: .unreadable(path: path, reason: String(cString: strerror(code)).lowercased())
        }
    }
}

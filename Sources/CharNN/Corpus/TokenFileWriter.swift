import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Appends token ids to a file as little-endian integers of a fixed width, through a buffer,
/// keeping their CRC-32C; ``close()`` flushes and syncs.
final class TokenFileWriter {
    let path: String
    let width: Int
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var crc = CRC32C()
    /// Ids appended so far.
    private(set) var count = 0

    /// Creates (or truncates) the file at `path` for ids of `width` bytes (1, 2 or 4).
    init(path: String, width: Int) throws(FileWriteError) {
        precondition([1, 2, 4].contains(width), "token width must be 1, 2 or 4")
        self.path = path
        self.width = width
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileWriteError(path: path, reason: "open failed: " + String(cString: strerror(errno))) }
        buffer.reserveCapacity(1 << 20)
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// The CRC-32C of every byte written.
    var checksum: UInt32 { crc.value }

    /// Appends `tokens`, narrowed to the file's width (each id must fit it).
    func append(_ tokens: TokenSequence) throws(FileWriteError) {
        var start = 0
        let block = 1 << 16
        var ids = [Int32](repeating: 0, count: block)
        while start < tokens.count {
            let n = min(block, tokens.count - start)
            ids.withUnsafeMutableBufferPointer { tokens.copy(start..<(start + n), into: $0) }
            for k in 0..<n {
                let id = UInt32(bitPattern: ids[k])
                switch width {
                case 1: buffer.append(UInt8(truncatingIfNeeded: id))
                case 2: buffer.append(UInt8(truncatingIfNeeded: id)); buffer.append(UInt8(truncatingIfNeeded: id >> 8))
                default:
                    for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(truncatingIfNeeded: id >> UInt32(shift))) }
                }
            }
            count += n
            start += n
            if buffer.count >= 1 << 20 { try flush() }
        }
    }

    /// Writes out what is buffered.
    private func flush() throws(FileWriteError) {
        crc.update(buffer)
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileWriteError(path: path, reason: "write failed: " + String(cString: strerror(errno))) }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs to disk and closes the file.
    func close() throws(FileWriteError) {
        try flush()
        guard fsync(fd) == 0 else { throw FileWriteError(path: path, reason: "fsync failed: " + String(cString: strerror(errno))) }
        Glibc.close(fd)
        fd = -1
    }
}

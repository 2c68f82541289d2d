import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Token ids read straight from a file through a read-only memory mapping, as `charnn prepare`
/// writes them: little-endian integers of 1, 2 or 4 bytes, back to back.
///
/// The pages belong to the file, not to the process's anonymous memory: the kernel reads them
/// in as they are touched and may drop them again under pressure, so a corpus larger than RAM
/// trains with flat memory. A slice (``TokenSequence/slice(_:)``) shares the mapping.
public struct MappedTokens: Sendable {
    let mapping: TokenMapping
    /// The first id's index in the mapping.
    let offset: Int
    /// The number of ids.
    public let count: Int

    /// Bytes per id: 1, 2 or 4.
    public var width: Int { mapping.width }

    /// Maps the whole file at `path` read-only as ids of `width` bytes (1, 2 or 4).
    ///
    /// - Throws: ``TextError/unreadable(path:reason:)`` when the file cannot be opened or
    ///   mapped, or its size is not a whole number of ids.
    public init(path: String, width: Int) throws(TextError) {
        mapping = try TokenMapping(path: path, width: width)
        offset = 0
        count = mapping.count
    }

    init(mapping: TokenMapping, offset: Int, count: Int) {
        self.mapping = mapping
        self.offset = offset
        self.count = count
    }

    /// The id at `index` (0-based within this view).
    @inline(__always)
    subscript(index: Int) -> Int32 {
        let i = offset + index
        switch mapping.width {
        case 1: return Int32(mapping.base.load(fromByteOffset: i, as: UInt8.self))
        case 2: return Int32(UInt16(littleEndian: mapping.base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        default:
            return Int32(bitPattern: UInt32(littleEndian: mapping.base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
    }

    /// The raw bytes of this view's ids.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mapping.base + offset * mapping.width, count: count * mapping.width)
    }

    /// Copies the ids at `range` (within this view) into `out`, widened to `Int32`.
    func copy(_ range: Range<Int>, into out: UnsafeMutablePointer<Int32>) {
        let start = offset + range.lowerBound
        switch mapping.width {
        case 1:
            let src = mapping.base.assumingMemoryBound(to: UInt8.self) + start
            for k in 0..<range.count { out[k] = Int32(src[k]) }
        case 2:
            for k in 0..<range.count {
                out[k] = Int32(UInt16(littleEndian: mapping.base.loadUnaligned(fromByteOffset: 2 * (start + k), as: UInt16.self)))
            }
        default:
            for k in 0..<range.count {
                out[k] = Int32(bitPattern: UInt32(littleEndian: mapping.base.loadUnaligned(fromByteOffset: 4 * (start + k), as: UInt32.self)))
            }
        }
    }
}

/// One read-only mapping of a token file, unmapped when the last view of it goes.
final class TokenMapping: @unchecked Sendable {
    // Sendable: the mapping is read-only (PROT_READ) for its whole life.
    let base: UnsafeRawPointer
    let byteCount: Int
    let width: Int
    var count: Int { byteCount / width }

    init(path: String, width: Int) throws(TextError) {
        guard [1, 2, 4].contains(width) else { throw .unreadable(path: path, reason: "token width \(width) is not 1, 2 or 4 bytes") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)).lowercased())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno)).lowercased()) }
        let size = Int(info.st_size)
        guard size % width == 0 else {
            throw .unreadable(path: path, reason: "\(size) bytes is not a whole number of \(width)-byte token ids")
        }
        self.width = width
        byteCount = size
        if size == 0 {
            // mmap refuses a zero length; an empty corpus needs no pages.
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 8))
            return
        }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw .unreadable(path: path, reason: "mmap failed: " + String(cString: strerror(errno)).lowercased())
        }
        // Training reads each stream front to back, B streams at once.
        madvise(mapped, size, MADV_NORMAL)
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        if byteCount == 0 {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), byteCount)
        }
    }
}

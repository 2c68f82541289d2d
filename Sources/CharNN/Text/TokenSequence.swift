/// Token ids in the narrowest integer that holds them, because a corpus is held as ids for
/// all of training: 100 million symbols take 200 MB as `UInt16` and 800 MB as `Int`.
///
/// ``u16(_:)`` is used when the vocabulary has at most 65,536 symbols, else ``u32(_:)``;
/// ``mapped(_:)`` reads a prepared corpus's ids from its file (`charnn prepare`).
/// The collection view reads ids as `Int32`, the type model code indexes embeddings with.
/// Two sequences are equal when they hold the same ids, whatever their storage.
public enum TokenSequence: Sendable, Equatable, Hashable {
    /// Ids of a vocabulary of at most 65,536 symbols.
    case u16([UInt16])
    /// Ids of a larger vocabulary.
    case u32([UInt32])
    /// Ids in a memory-mapped file, 1, 2 or 4 bytes each.
    case mapped(MappedTokens)

    /// An empty sequence of the width that suits a vocabulary of `vocabularySize` symbols.
    public init(vocabularySize: Int) {
        self = vocabularySize <= 65_536 ? .u16([]) : .u32([])
    }

    /// Stores `ids` in the width that suits a vocabulary of `vocabularySize` symbols; every id
    /// must be in `0 ..< vocabularySize`.
    public init(_ ids: some Sequence<Int>, vocabularySize: Int) {
        if vocabularySize <= 65_536 {
            self = .u16(ids.map { UInt16($0) })
        } else {
            self = .u32(ids.map { UInt32($0) })
        }
    }

    /// Bytes per id: 2 or 4 (1 to 4 for a mapped file).
    public var bytesPerToken: Int {
        switch self {
        case .u16: return 2
        case .u32: return 4
        case .mapped(let tokens): return tokens.width
        }
    }

    /// Same ids in the same order.
    public static func == (a: TokenSequence, b: TokenSequence) -> Bool {
        switch (a, b) {
        case let (.u16(x), .u16(y)): return x == y
        case let (.u32(x), .u32(y)): return x == y
        default: return a.count == b.count && a.elementsEqual(b)
        }
    }

    /// Hashes the count and the end ids (equal sequences hash alike, whatever their storage).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        if let first { hasher.combine(first) }
        if let last { hasher.combine(last) }
    }

    /// Copies the ids at `range` into the start of `buffer`, widened to `Int32`, the layout
    /// batching code feeds to embedding lookups. `buffer` must hold `range.count` ids.
    public func copy(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Int32>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range outside the sequence")
        precondition(buffer.count >= range.count, "buffer too small for the range")
        guard let out = buffer.baseAddress else { return }
        switch self {
        case .u16(let ids):
            ids.withUnsafeBufferPointer { src in
                for k in 0..<range.count { out[k] = Int32(src[range.lowerBound + k]) }
            }
        case .u32(let ids):
            ids.withUnsafeBufferPointer { src in
                for k in 0..<range.count { out[k] = Int32(bitPattern: src[range.lowerBound + k]) }
            }
        case .mapped(let tokens):
            tokens.copy(range, into: out)
        }
    }
}

extension TokenSequence: RandomAccessCollection {
    /// Always 0.
    public var startIndex: Int { 0 }
    /// The number of ids.
    public var endIndex: Int { count }

    /// The number of ids.
    public var count: Int {
        switch self {
        case .u16(let ids): return ids.count
        case .u32(let ids): return ids.count
        case .mapped(let tokens): return tokens.count
        }
    }

    /// The id at `position`, as `Int32`.
    public subscript(position: Int) -> Int32 {
        switch self {
        case .u16(let ids): return Int32(ids[position])
        case .u32(let ids): return Int32(bitPattern: ids[position])
        case .mapped(let tokens):
            precondition(position >= 0 && position < tokens.count, "index out of range")
            return tokens[position]
        }
    }
}

/// Token storage that grows while a corpus is cut: ids start as `UInt16` and move to `UInt32`
/// only if the 65,537th distinct symbol appears.
struct TokenBuffer {
    private var narrow: [UInt16] = []
    private var wide: [UInt32] = []
    private var isWide = false
    private let reservation: Int

    /// `reservation` is an upper bound on the token count (the byte count of the text), so
    /// the array never reallocates while it fills. Pages never written are never touched, so
    /// the bound costs address space, not memory.
    init(reservation: Int, wide: Bool = false) {
        self.reservation = reservation
        if wide {
            isWide = true
            self.wide.reserveCapacity(reservation)
        } else {
            narrow.reserveCapacity(reservation)
        }
    }

    /// The number of ids appended.
    var count: Int { isWide ? wide.count : narrow.count }

    @inline(__always)
    mutating func append(_ id: Int) {
        if !isWide {
            if id <= 0xFFFF {
                narrow.append(UInt16(truncatingIfNeeded: id))
                return
            }
            widen()
        }
        wide.append(UInt32(truncatingIfNeeded: id))
    }

    /// Appends `table[b]` for each byte `b` of `run`: the bulk path for ASCII text. Ids go
    /// through a small stack buffer and are appended a block at a time, so there is no
    /// per-id capacity or uniqueness check.
    mutating func append(mapping run: UnsafeBufferPointer<UInt8>, through table: UnsafeBufferPointer<Int>) {
        guard let bytes = run.baseAddress, !run.isEmpty else { return }
        guard let t = table.baseAddress else { return }
        if run.count <= 32 || (!isWide && run.contains(where: { t[Int($0)] > 0xFFFF })) {
            for b in run { append(t[Int(b)]) }  // short runs (and widening) one at a time
            return
        }
        let block = min(run.count, 512)  // small enough for the stack
        if isWide {
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: block) { scratch in
                var start = 0
                while start < run.count {
                    let m = min(block, run.count - start)
                    for k in 0..<m { scratch[k] = UInt32(truncatingIfNeeded: t[Int(bytes[start + k])]) }
                    wide.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<m]))
                    start += m
                }
            }
        } else {
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: block) { scratch in
                var start = 0
                while start < run.count {
                    let m = min(block, run.count - start)
                    for k in 0..<m { scratch[k] = UInt16(truncatingIfNeeded: t[Int(bytes[start + k])]) }
                    narrow.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<m]))
                    start += m
                }
            }
        }
    }

    private mutating func widen() {
        wide.reserveCapacity(reservation)
        wide.append(contentsOf: narrow.lazy.map { UInt32($0) })
        narrow = []
        isWide = true
    }

    /// Replaces every id `i` by `table[i]` and returns the ids, in `UInt16` when
    /// `vocabularySize` allows it. The buffer is left empty.
    mutating func remapped(by table: [Int], vocabularySize: Int) -> TokenSequence {
        if !isWide {
            var ids = narrow
            narrow = []
            ids.withUnsafeMutableBufferPointer { b in
                table.withUnsafeBufferPointer { t in
                    for k in b.indices { b[k] = UInt16(truncatingIfNeeded: t[Int(b[k])]) }
                }
            }
            return .u16(ids)
        }
        var ids = wide
        wide = []
        ids.withUnsafeMutableBufferPointer { b in
            table.withUnsafeBufferPointer { t in
                for k in b.indices { b[k] = UInt32(truncatingIfNeeded: t[Int(b[k])]) }
            }
        }
        if vocabularySize <= 65_536 {
            // Rare: over 65,536 distinct symbols, most of them merged into the unknown one.
            return .u16(ids.map { UInt16(truncatingIfNeeded: $0) })
        }
        return .u32(ids)
    }

    /// The ids as they are (for encoding with a fixed vocabulary, where no remap is needed;
    /// create the buffer `wide` for a vocabulary of over 65,536 symbols).
    mutating func take() -> TokenSequence {
        defer { narrow = []; wide = [] }
        return isWide ? .u32(wide) : .u16(narrow)
    }
}

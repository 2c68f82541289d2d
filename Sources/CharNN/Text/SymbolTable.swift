/// A hash table from symbols, as exact UTF-8 bytes, to dense ids 0, 1, 2, … in insertion
/// order.
///
/// Keys are bytes on purpose: Swift's `String` and `Character` compare canonically
/// equivalent text as equal, so a `[String: Int]` would silently merge "é" (U+00E9) and
/// "e" + U+0301 when normalization is off. Lookups take a pointer and a length, so cutting a
/// 100 MB corpus allocates nothing per symbol; all symbol bytes live in one arena.
struct SymbolTable: Sendable {
    /// Every symbol's bytes, back to back.
    private(set) var arena: [UInt8] = []
    /// Symbol `id` is `arena[ends[id - 1] ..< ends[id]]` (from 0 for id 0).
    private(set) var ends: [Int] = []
    private var hashes: [UInt64] = []
    /// Each symbol of up to 7 bytes packed with its length into one word (see `packed`), so
    /// the common short symbol is hashed and compared without touching the arena;
    /// `UInt64.max` for longer symbols.
    private var keys: [UInt64] = []
    /// Open addressing with linear probing; -1 marks an empty slot.
    private var slots: [Int32]
    private var mask: Int

    init(minimumCapacity: Int = 256) {
        var size = 16
        while size < minimumCapacity * 2 { size *= 2 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    /// The number of symbols.
    var count: Int { ends.count }

    /// The bytes of symbol `id`.
    func bytes(of id: Int) -> ArraySlice<UInt8> {
        arena[(id == 0 ? 0 : ends[id - 1])..<ends[id]]
    }

    /// The bytes and length of a symbol of at most 7 bytes in one word; `UInt64.max` (which
    /// no short symbol packs to, its top byte being a length) for longer ones.
    @inline(__always)
    private static func packed(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        guard n <= 7 else { return .max }
        var key = UInt64(n) << 56
        for k in 0..<n { key |= UInt64(p[k]) << (8 * UInt64(k)) }
        return key
    }

    /// A multiplicative mix of the packed key, or FNV-1a over the bytes of a long symbol.
    @inline(__always)
    private static func hash(_ p: UnsafePointer<UInt8>, _ n: Int, key: UInt64) -> UInt64 {
        var h: UInt64
        if key != .max {
            h = key &* 0x9E37_79B9_7F4A_7C15
        } else {
            h = 0xcbf2_9ce4_8422_2325
            for k in 0..<n { h = (h ^ UInt64(p[k])) &* 0x0000_0100_0000_01b3 }
        }
        return h ^ (h >> 29)
    }

    /// The id of the symbol with these bytes, or nil.
    func id(of p: UnsafePointer<UInt8>, count n: Int) -> Int? {
        let key = Self.packed(p, n)
        let h = Self.hash(p, n, key: key)
        return slots.withUnsafeBufferPointer { slots in
            keys.withUnsafeBufferPointer { keys in
                var s = Int(truncatingIfNeeded: h) & mask
                while true {
                    let id = Int(slots[s])
                    if id < 0 { return nil }
                    if keys[id] == key && (key != .max || (hashes[id] == h && matches(id, p, n))) { return id }
                    s = (s + 1) & mask
                }
            }
        }
    }

    /// The id of the symbol with these bytes, adding it with the next id if it is new.
    mutating func insert(_ p: UnsafePointer<UInt8>, count n: Int) -> (id: Int, inserted: Bool) {
        let key = Self.packed(p, n)
        let h = Self.hash(p, n, key: key)
        var s = Int(truncatingIfNeeded: h) & mask
        let found: Int? = slots.withUnsafeBufferPointer { slots in
            keys.withUnsafeBufferPointer { keys in
                while true {
                    let id = Int(slots[s])
                    if id < 0 { return nil }
                    if keys[id] == key && (key != .max || (hashes[id] == h && matches(id, p, n))) { return id }
                    s = (s + 1) & mask
                }
            }
        }
        if let found { return (found, false) }
        let id = ends.count
        arena.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        ends.append(arena.count)
        hashes.append(h)
        keys.append(key)
        slots[s] = Int32(id)
        if ends.count * 2 > slots.count { grow() }
        return (id, true)
    }

    /// Adds a symbol given as bytes (see ``insert(_:count:)``).
    mutating func insert(_ bytes: some Collection<UInt8>) -> (id: Int, inserted: Bool) {
        let array = Array(bytes)
        return array.withUnsafeBufferPointer { b in
            // An empty key is allowed (it stands for the unknown symbol, which no text holds);
            // give it a valid pointer.
            withUnsafePointer(to: 0 as UInt8) { dummy in
                insert(b.baseAddress ?? dummy, count: b.count)
            }
        }
    }

    @inline(__always)
    private func matches(_ id: Int, _ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let start = id == 0 ? 0 : ends[id - 1]
        if ends[id] - start != n { return false }
        return arena.withUnsafeBufferPointer { a in
            for k in 0..<n where a[start + k] != p[k] { return false }
            return true
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for id in 0..<ends.count {
            var s = Int(truncatingIfNeeded: hashes[id]) & mask
            while slots[s] >= 0 { s = (s + 1) & mask }
            slots[s] = Int32(id)
        }
    }
}

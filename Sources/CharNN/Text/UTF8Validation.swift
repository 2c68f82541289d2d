/// UTF-8 validation and repair over raw bytes, following Unicode's table of well-formed byte
/// sequences (Table 3-7), so overlong forms, surrogates and values past U+10FFFF are errors.
///
/// Repair replaces each *maximal subpart* of an ill-formed sequence with one U+FFFD, the
/// practice Unicode recommends and Swift's `String(decoding:as:)` follows, so a file repaired
/// here and one decoded by the standard library read the same.
enum UTF8Validation {
    /// The UTF-8 byte order mark. A leading one is a file signature, not text, and is dropped.
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// U+FFFD REPLACEMENT CHARACTER in UTF-8.
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// Length of the well-formed sequence at `i`, or the negated length of the maximal subpart
    /// to replace when the bytes there are ill-formed. `i < end` is required.
    @inline(__always)
    static func sequenceLength(_ p: UnsafePointer<UInt8>, at i: Int, end: Int) -> Int {
        let b0 = p[i]
        if b0 < 0x80 { return 1 }
        var need = 0
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0  // below A0 would be an overlong form
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F  // above 9F would encode a surrogate
        case 0xF0: need = 3; lo = 0x90  // below 90 would be an overlong form
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F  // above 8F would pass U+10FFFF
        default: return -1  // a continuation byte, C0, C1 or F5...FF can start nothing
        }
        var j = i + 1
        if j >= end || p[j] < lo || p[j] > hi { return -1 }
        j += 1
        while j - i <= need {  // the remaining continuation bytes, 80...BF
            if j >= end || p[j] & 0xC0 != 0x80 { return -(j - i) }
            j += 1
        }
        return need + 1
    }

    /// True when the eight bytes at `i` are all ASCII: a word at a time makes English text
    /// nearly free to validate.
    @inline(__always)
    static func eightASCII(_ p: UnsafePointer<UInt8>, at i: Int) -> Bool {
        UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0
    }

    /// The offset of the first ill-formed sequence, or nil when all bytes are UTF-8.
    static func firstInvalidOffset(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let p = bytes.baseAddress else { return nil }
        let end = bytes.count
        var i = 0
        while i < end {
            if i + 8 <= end && eightASCII(p, at: i) {
                i += 8
                continue
            }
            let n = sequenceLength(p, at: i, end: end)
            if n < 0 { return i }
            i += n
        }
        return nil
    }

    /// Appends `bytes` to `output` with each maximal ill-formed subpart replaced by U+FFFD,
    /// and returns how many replacements were made.
    static func appendRepairing(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) -> Int {
        guard let p = bytes.baseAddress else { return 0 }
        let end = bytes.count
        var replaced = 0
        var validStart = 0
        var i = 0
        while i < end {
            let n = sequenceLength(p, at: i, end: end)
            if n > 0 {
                i += n
                continue
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[validStart..<i]))
            output.append(contentsOf: replacement)
            replaced += 1
            i += -n
            validStart = i
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[validStart..<end]))
        return replaced
    }

    /// The number of bytes of a leading byte order mark: 3 or 0.
    static func byteOrderMarkLength(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    /// The 1-based line of byte `offset`: one more than the LF bytes before it.
    static func lineNumber(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var line = 1
        for b in bytes[..<min(offset, bytes.count)] where b == 0x0A { line += 1 }
        return line
    }
}

import CUTF8Proc

/// Per-scalar facts that let the normalizer hand utf8proc only the few stretches of text that
/// normalization can change, since utf8proc's NFC alone runs at about 26 MB/s.
///
/// The facts rest on how composition works (UAX #15, and utf8proc's implementation of it):
/// canonical reordering never moves a mark across a starter (combining class 0), and a
/// character composes only with the last starter before it. So text may be cut just before
/// a scalar X, and each piece normalized alone, when X is a *boundary*:
/// - X is a starter,
/// - X is not the second element of any composition (so it never merges into what precedes),
/// - X's own decomposition starts with such a starter (so decomposing X exposes nothing that
///   could merge backwards).
///
/// A piece that is one boundary scalar which decomposes to itself (or one Hangul syllable,
/// whose decomposition recomposes to itself) is *inert*: normalization leaves it unchanged.
/// Every ASCII byte is an inert boundary; most letters of Cyrillic, CJK, Arabic and
/// Devanagari and all emoji are too, so most text is never passed to utf8proc.
struct NormalizationProperties: Sendable {
    /// Flag bits per scalar, indexed by the scalar value.
    static let boundaryNFC: UInt8 = 1
    static let inertNFC: UInt8 = 2
    static let boundaryNFKC: UInt8 = 4
    static let inertNFKC: UInt8 = 8

    /// Built once, on first use, in a few milliseconds: 1.1 MB, one byte per scalar value.
    static let shared = NormalizationProperties()

    let flags: [UInt8]

    private init() {
        let scalarCount = 0x110000
        var second = [Bool](repeating: false, count: scalarCount)
        // Hangul jamo compose algorithmically (L+V, LV+T), outside the decomposition tables;
        // the whole block is treated as possibly composing, which is merely conservative.
        for cp in 0x1100...0x11FF { second[cp] = true }

        // Pass 1: every scalar that follows the first in a full canonical decomposition is
        // (or may be) the second element of a composition. A superset is safe: it only sends
        // a little more text to utf8proc.
        var decomposable: [Int32] = []
        var starter = [Bool](repeating: true, count: scalarCount)
        for cp in Int32(0)..<Int32(scalarCount) where !(0xD800...0xDFFF).contains(cp) {
            let property = utf8proc_get_property(cp).pointee
            if property.decomp_seqindex != UInt16.max { decomposable.append(cp) }
            if property.combining_class != 0 { starter[Int(cp)] = false }
        }
        for cp in decomposable {
            let d = Self.decomposition(of: cp, compat: false)
            for s in d.dropFirst() { second[Int(s)] = true }
        }

        var flags = [UInt8](repeating: 0, count: scalarCount)
        let both = Self.boundaryNFC | Self.inertNFC | Self.boundaryNFKC | Self.inertNFKC
        for cp in 0..<scalarCount {
            if (0xD800...0xDFFF).contains(cp) { continue }
            if second[cp] || !starter[cp] { continue }
            flags[cp] = both
        }
        func isPlainStarter(_ s: Int32) -> Bool {
            !second[Int(s)] && starter[Int(s)]
        }
        for cp in decomposable where flags[Int(cp)] != 0 {
            var f = flags[Int(cp)]
            for compat in [false, true] {
                let d = Self.decomposition(of: cp, compat: compat)
                let boundary = compat ? Self.boundaryNFKC : Self.boundaryNFC
                let inert = compat ? Self.inertNFKC : Self.inertNFC
                if d != [cp] { f &= ~inert }
                if let first = d.first, !isPlainStarter(first) { f &= ~(boundary | inert) }
            }
            flags[Int(cp)] = f
        }
        // Hangul syllables: a starter that nothing composes into; alone it recomposes to
        // itself, so it is an inert boundary (an LV syllable followed by a T jamo is not
        // alone: the jamo is no boundary and joins its piece).
        for cp in 0xAC00...0xD7A3 { flags[cp] = both }
        self.flags = flags
    }

    /// The full decomposition of one scalar (canonical, or compatibility when `compat`).
    static func decomposition(of cp: Int32, compat: Bool) -> [Int32] {
        var options = UTF8PROC_STABLE.rawValue | UTF8PROC_DECOMPOSE.rawValue
        if compat { options |= UTF8PROC_COMPAT.rawValue }
        var buffer = [Int32](repeating: 0, count: 32)
        var lastBoundClass: Int32 = 0
        let n = buffer.withUnsafeMutableBufferPointer { b in
            utf8proc_decompose_char(cp, b.baseAddress, 32, utf8proc_option_t(options), &lastBoundClass)
        }
        return n > 0 ? Array(buffer[..<min(n, 32)]) : [cp]
    }
}

import CUTF8Proc

/// NFC or NFKC over valid UTF-8, appending the normalized bytes to a caller's buffer.
///
/// Text is cut at *boundaries* (see ``NormalizationProperties``) into pieces that normalize
/// independently. A piece that is one inert scalar (every ASCII byte, most letters of most
/// scripts, emoji) is copied as it is; runs of other pieces go to utf8proc in one call.
/// The output is byte-for-byte what utf8proc gives for the whole text at once; the property
/// tests check that.
struct Normalizer {
    let form: Normalization
    private let utf8procOptions: utf8proc_option_t
    private let boundaryBit: UInt8
    private let inertBit: UInt8
    private let properties = NormalizationProperties.shared
    /// Scratch space for utf8proc's decomposed code points; reused, so it grows only to the
    /// longest run of non-inert text seen.
    private var codePoints: [Int32] = []

    /// A normalizer for `form`; nil for ``Normalization/none``, which needs none.
    init?(_ form: Normalization) {
        self.form = form
        switch form {
        case .none:
            return nil
        case .nfc:
            utf8procOptions = utf8proc_option_t(UTF8PROC_STABLE.rawValue | UTF8PROC_COMPOSE.rawValue)
            boundaryBit = NormalizationProperties.boundaryNFC
            inertBit = NormalizationProperties.inertNFC
        case .nfkc:
            utf8procOptions = utf8proc_option_t(
                UTF8PROC_STABLE.rawValue | UTF8PROC_COMPOSE.rawValue | UTF8PROC_COMPAT.rawValue)
            boundaryBit = NormalizationProperties.boundaryNFKC
            inertBit = NormalizationProperties.inertNFKC
        }
    }

    /// Appends the normalized form of `input`, which must be valid UTF-8, to `output`.
    mutating func normalize(_ input: UnsafeBufferPointer<UInt8>, appendingTo output: inout [UInt8]) {
        guard let p = input.baseAddress, !input.isEmpty else { return }
        let n = input.count
        output.reserveCapacity(output.count + n + n / 8)
        properties.flags.withUnsafeBufferPointer { flags in
            var i = 0
            var cleanFrom = 0  // start of bytes known unchanged and not yet copied
            var dirtyFrom = -1  // start of the pending run for utf8proc, or -1
            var segmentStart = 0
            var segmentInert = false

            // Closes the piece that ends here: clean pieces extend the copied stretch,
            // others extend the run for utf8proc.
            func closeSegment() {
                if segmentInert {
                    if dirtyFrom >= 0 {
                        normalizeRun(p, from: dirtyFrom, to: segmentStart, into: &output)
                        dirtyFrom = -1
                        cleanFrom = segmentStart
                    }
                } else if dirtyFrom < 0 {
                    output.append(contentsOf: UnsafeBufferPointer(start: p + cleanFrom, count: segmentStart - cleanFrom))
                    dirtyFrom = segmentStart
                }
            }

            while i < n {
                let b = p[i]
                if b < 0x80 {
                    // ASCII: an inert boundary. In clean text, skip the whole ASCII run.
                    if i > 0 { closeSegment() }
                    if dirtyFrom < 0 {
                        i += 1
                        while i + 8 <= n && UTF8Validation.eightASCII(p, at: i) { i += 8 }
                        while i < n && p[i] < 0x80 { i += 1 }
                        segmentStart = i - 1
                    } else {
                        segmentStart = i
                        i += 1
                    }
                    segmentInert = true
                    continue
                }
                let (cp, len) = UTF8Scalar.decode(p, at: i)
                let f = flags[Int(cp)]
                if f & boundaryBit != 0 {
                    if i > 0 { closeSegment() }
                    segmentStart = i
                    segmentInert = f & inertBit != 0
                } else {
                    segmentInert = false
                }
                i += len
            }
            closeSegment()
            if dirtyFrom >= 0 {
                normalizeRun(p, from: dirtyFrom, to: n, into: &output)
            } else {
                output.append(contentsOf: UnsafeBufferPointer(start: p + cleanFrom, count: n - cleanFrom))
            }
        }
    }

    /// Normalizes `p[start..<end]` with utf8proc (decompose, reorder, compose) and appends it.
    private mutating func normalizeRun(
        _ p: UnsafePointer<UInt8>, from start: Int, to end: Int, into output: inout [UInt8]
    ) {
        let length = end - start
        if codePoints.count < 2 * length { codePoints = [Int32](repeating: 0, count: 2 * length) }
        let options = utf8procOptions
        var count = codePoints.withUnsafeMutableBufferPointer { buf in
            utf8proc_decompose(p + start, length, buf.baseAddress, buf.count, options)
        }
        if count > codePoints.count {  // compatibility decompositions can expand 18-fold
            codePoints = [Int32](repeating: 0, count: count)
            count = codePoints.withUnsafeMutableBufferPointer { buf in
                utf8proc_decompose(p + start, length, buf.baseAddress, buf.count, options)
            }
        }
        precondition(count >= 0, "utf8proc rejected text already validated as UTF-8")
        codePoints.withUnsafeMutableBufferPointer { buf in
            let composed = utf8proc_normalize_utf32(buf.baseAddress, count, options)
            for k in 0..<composed { UTF8Scalar.append(buf[k], to: &output) }
        }
    }
}

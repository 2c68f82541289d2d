import CUTF8Proc

/// Receives the symbols that segmentation cuts, as byte ranges of the buffer being cut.
/// A protocol (not a closure) so the hot loop is specialized for each receiver.
protocol SymbolSink {
    /// One symbol's UTF-8 bytes; valid only during the call.
    mutating func accept(_ symbol: UnsafeBufferPointer<UInt8>)
    /// A run of ASCII bytes each of which is a whole symbol: English text arrives almost
    /// entirely this way, so a sink can count and store it without a call per symbol.
    mutating func acceptSingleBytes(_ run: UnsafeBufferPointer<UInt8>)
}

extension SymbolSink {
    mutating func acceptSingleBytes(_ run: UnsafeBufferPointer<UInt8>) {
        guard let p = run.baseAddress else { return }
        for k in 0..<run.count { accept(UnsafeBufferPointer(start: p + k, count: 1)) }
    }
}

/// Cuts valid UTF-8 into symbols: extended grapheme clusters (UAX #29, as implemented by
/// utf8proc's `utf8proc_grapheme_break_stateful`) or single scalars.
enum GraphemeSegmenter {
    /// The break state utf8proc is left in after each ASCII scalar. After any ASCII scalar the
    /// state is that scalar's break class (ASCII is neither a regional indicator nor an emoji
    /// extender), whatever came before, so an ASCII run needs no call into utf8proc.
    private static let asciiState: [Int32] = (0..<128).map { b in
        var state: Int32 = 0
        _ = utf8proc_grapheme_break_stateful(0x41, Int32(b), &state)
        return state
    }

    /// Cuts `bytes` into grapheme clusters. The buffer must begin at a grapheme break (the
    /// chunking guarantees it), and its end is one.
    static func graphemes<S: SymbolSink>(_ bytes: UnsafeBufferPointer<UInt8>, into sink: inout S) {
        guard let p = bytes.baseAddress, !bytes.isEmpty else { return }
        let n = bytes.count
        asciiState.withUnsafeBufferPointer { asciiState in
            var state: Int32 = 0
            var symbolStart = 0
            var previous = Int32(-1)
            var i = 0
            while i < n {
                let b = p[i]
                if b < 0x80 && previous >= 0 && previous < 0x80 {
                    // ASCII after ASCII: a break everywhere but inside CR LF (GB3, GB4, GB5,
                    // GB999). Run through the whole ASCII stretch without utf8proc.
                    var prev = UInt8(truncatingIfNeeded: previous)
                    while i < n {
                        let c = p[i]
                        if c >= 0x80 { break }
                        if prev == 0x0D && c == 0x0A {  // CR LF stays one symbol
                            prev = c
                            i += 1
                            continue
                        }
                        sink.accept(UnsafeBufferPointer(start: p + symbolStart, count: i - symbolStart))
                        // Bytes i..<k are whole symbols: each is followed by an ASCII byte and
                        // is not CR. The last ASCII byte of the run stays pending, since a
                        // combining mark after it would join it.
                        var k = i
                        while k + 1 < n && p[k + 1] < 0x80 && p[k] != 0x0D { k += 1 }
                        if k > i { sink.acceptSingleBytes(UnsafeBufferPointer(start: p + i, count: k - i)) }
                        symbolStart = k
                        prev = p[k]
                        i = k + 1
                    }
                    previous = Int32(prev)
                    state = asciiState[Int(prev)]
                    continue
                }
                let (cp, len) = UTF8Scalar.decode(p, at: i)
                if previous >= 0 {
                    if utf8proc_grapheme_break_stateful(previous, cp, &state) {
                        sink.accept(UnsafeBufferPointer(start: p + symbolStart, count: i - symbolStart))
                        symbolStart = i
                    }
                }
                previous = cp
                i += len
            }
            sink.accept(UnsafeBufferPointer(start: p + symbolStart, count: n - symbolStart))
        }
    }

    /// Cuts `bytes` into single scalars.
    static func scalars<S: SymbolSink>(_ bytes: UnsafeBufferPointer<UInt8>, into sink: inout S) {
        guard let p = bytes.baseAddress else { return }
        let n = bytes.count
        var i = 0
        while i < n {
            if p[i] < 0x80 {
                var k = i + 1
                while k < n && p[k] < 0x80 { k += 1 }
                sink.acceptSingleBytes(UnsafeBufferPointer(start: p + i, count: k - i))
                i = k
                continue
            }
            let len = UTF8Scalar.length(leadByte: p[i])
            sink.accept(UnsafeBufferPointer(start: p + i, count: len))
            i += len
        }
    }
}

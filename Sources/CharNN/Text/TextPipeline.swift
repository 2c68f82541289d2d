/// Runs text through every step, one chunk at a time: drop a leading BOM, validate (or
/// repair) UTF-8, normalize, cut into symbols and hand them to a sink.
///
/// Chunks keep memory flat: only one chunk's repaired and normalized copies exist at once,
/// never a normalized copy of the whole corpus. A chunk may end only where cutting cannot
/// change the result:
/// - just after an LF: a grapheme break always follows LF (UAX #29 GB4), and LF neither
///   composes with nor reorders around anything, so NFC/NFKC of the two sides are independent;
/// - between two ASCII bytes other than CR LF: ASCII after ASCII is always a grapheme break
///   except inside CR LF, and normalization may always cut before an ASCII scalar (see
///   ``NormalizationProperties``).
/// Neither cut can fall inside a UTF-8 sequence or an ill-formed subpart, since ASCII bytes
/// are never part of either. The property tests check that tiny chunks give the same result.
struct TextPipeline {
    /// About a megabyte: big enough that per-chunk costs vanish, small enough to stay in L2.
    static let defaultChunkSize = 1 << 20

    let options: TextOptions
    let chunkSize: Int
    private var normalizer: Normalizer?
    private var repaired: [UInt8] = []
    private var normalized: [UInt8] = []
    /// How many ill-formed sequences were replaced by U+FFFD so far.
    private(set) var replacedSequences = 0

    init(options: TextOptions, chunkSize: Int = TextPipeline.defaultChunkSize) {
        self.options = options
        self.chunkSize = max(1, chunkSize)
        normalizer = Normalizer(options.normalization)
    }

    /// Cuts all of `input` into symbols for `sink`. `file` names the input in errors;
    /// `dropByteOrderMark` is true for bytes from a file.
    mutating func run<S: SymbolSink>(
        _ input: UnsafeBufferPointer<UInt8>, file: String?, dropByteOrderMark: Bool, into sink: inout S
    ) throws(TextError) {
        guard let p = input.baseAddress else { return }
        let n = input.count
        var start = dropByteOrderMark ? UTF8Validation.byteOrderMarkLength(input) : 0
        while start < n {
            let end = Self.chunkEnd(p, from: start + chunkSize, count: n)
            let chunk = UnsafeBufferPointer(rebasing: input[start..<end])
            if let bad = UTF8Validation.firstInvalidOffset(in: chunk) {
                guard options.replaceInvalid else {
                    let offset = start + bad
                    throw .invalidUTF8(
                        file: file, byteOffset: offset, line: UTF8Validation.lineNumber(of: offset, in: input))
                }
                repaired.removeAll(keepingCapacity: true)
                replacedSequences += UTF8Validation.appendRepairing(chunk, to: &repaired)
                let valid = repaired
                valid.withUnsafeBufferPointer { normalizeAndCut($0, into: &sink) }
            } else {
                normalizeAndCut(chunk, into: &sink)
            }
            start = end
        }
    }

    private mutating func normalizeAndCut<S: SymbolSink>(_ chunk: UnsafeBufferPointer<UInt8>, into sink: inout S) {
        guard normalizer != nil else { return cut(chunk, into: &sink) }
        normalized.removeAll(keepingCapacity: true)
        normalizer!.normalize(chunk, appendingTo: &normalized)
        let text = normalized
        text.withUnsafeBufferPointer { cut($0, into: &sink) }
    }

    private func cut<S: SymbolSink>(_ chunk: UnsafeBufferPointer<UInt8>, into sink: inout S) {
        switch options.unit {
        case .grapheme: GraphemeSegmenter.graphemes(chunk, into: &sink)
        case .scalar: GraphemeSegmenter.scalars(chunk, into: &sink)
        }
    }

    /// The first safe chunk end at or after `target` (see the type's documentation), or `n`.
    static func chunkEnd(_ p: UnsafePointer<UInt8>, from target: Int, count n: Int) -> Int {
        var j = max(target, 1)
        while j < n {
            let a = p[j - 1]
            let b = p[j]
            if a == 0x0A || (a < 0x80 && b < 0x80 && !(a == 0x0D && b == 0x0A)) { return j }
            j += 1
        }
        return n
    }
}

/// A sink that keeps the symbols' bytes back to back: the normalized text.
struct ByteCollectingSink: SymbolSink {
    var bytes: [UInt8] = []
    mutating func accept(_ symbol: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: symbol) }
}

/// A sink that keeps each symbol as a `String` (for inspection and tests, not for corpora).
struct StringCollectingSink: SymbolSink {
    var symbols: [String] = []
    mutating func accept(_ symbol: UnsafeBufferPointer<UInt8>) {
        symbols.append(String(decoding: symbol, as: UTF8.self))
    }
}

extension TextPipeline {
    /// Runs `bytes` through a fresh pipeline (see ``run(_:file:dropByteOrderMark:into:)``)
    /// without first copying them when they are already contiguous.
    static func run<S: SymbolSink>(
        _ bytes: some Collection<UInt8>, options: TextOptions, file: String?, dropByteOrderMark: Bool,
        chunkSize: Int = defaultChunkSize, into sink: inout S
    ) throws(TextError) -> Int {
        var pipeline = TextPipeline(options: options, chunkSize: chunkSize)
        var failure: TextError?
        func body(_ buffer: UnsafeBufferPointer<UInt8>) {
            do throws(TextError) {
                try pipeline.run(buffer, file: file, dropByteOrderMark: dropByteOrderMark, into: &sink)
            } catch {
                failure = error
            }
        }
        if bytes.withContiguousStorageIfAvailable(body) == nil {
            Array(bytes).withUnsafeBufferPointer(body)
        }
        if let failure { throw failure }
        return pipeline.replacedSequences
    }
}

/// Builds a vocabulary in one pass over a corpus: each new symbol gets the next provisional
/// id, its occurrences are counted, and (when kept) the provisional ids are stored. At the end
/// the symbols are put in vocabulary order and the stored ids rewritten in place.
///
/// One pass plus a remap, rather than a counting pass and an encoding pass, because cutting
/// (normalization above all) is the expensive part and should run once.
struct VocabularyBuilder: SymbolSink {
    private var table = SymbolTable(minimumCapacity: 1024)
    private var counts: [Int] = []
    private var asciiIDs = [Int](repeating: -1, count: 128)
    /// Occurrences of one-byte symbols, by byte; added into `counts` at the end. Kept apart so
    /// an ASCII run is counted with one array access per byte.
    private var asciiCounts = [Int](repeating: 0, count: 128)
    private var tokens: TokenBuffer
    private let keepTokens: Bool

    /// `reservation` bounds the number of symbols (the input's byte count).
    init(keepTokens: Bool, reservation: Int) {
        self.keepTokens = keepTokens
        tokens = TokenBuffer(reservation: keepTokens ? reservation : 0)
    }

    @inline(__always)
    mutating func accept(_ symbol: UnsafeBufferPointer<UInt8>) {
        let p = symbol.baseAddress!
        if symbol.count == 1 {  // in valid UTF-8 a one-byte symbol is ASCII
            return acceptSingleBytes(symbol)
        }
        let (id, inserted) = table.insert(p, count: symbol.count)
        if inserted { counts.append(0) }
        counts[id] += 1
        if keepTokens { tokens.append(id) }
    }

    mutating func acceptSingleBytes(_ run: UnsafeBufferPointer<UInt8>) {
        guard let p = run.baseAddress else { return }
        var lowestID = 0
        asciiCounts.withUnsafeMutableBufferPointer { c in
            asciiIDs.withUnsafeBufferPointer { ids in
                for k in 0..<run.count {
                    let b = Int(p[k])
                    c[b] &+= 1
                    lowestID = min(lowestID, ids[b])
                }
            }
        }
        if lowestID < 0 {
            // Bytes never seen before get ids. Provisional ids need not follow first
            // appearance (the final order is by count and bytes), so any order will do.
            for k in 0..<run.count where asciiIDs[Int(p[k])] < 0 {
                var byte = p[k]
                asciiIDs[Int(byte)] = table.insert(&byte, count: 1).id
                counts.append(0)
            }
        }
        if keepTokens {
            asciiIDs.withUnsafeBufferPointer { tokens.append(mapping: run, through: $0) }
        }
    }

    /// The vocabulary (symbols seen fewer than `minCount` times merged into the unknown
    /// symbol) and the corpus's ids in it (empty unless tokens were kept).
    mutating func finish(minCount: Int) -> (Vocabulary, TokenSequence) {
        let table = self.table
        var counts = self.counts
        for b in 0..<128 where asciiIDs[b] >= 0 { counts[asciiIDs[b]] += asciiCounts[b] }
        let order = (0..<table.count).sorted { a, b in
            counts[a] != counts[b]
                ? counts[a] > counts[b]
                : table.bytes(of: a).lexicographicallyPrecedes(table.bytes(of: b))
        }
        let kept = order.prefix { counts[$0] >= minCount }
        var remap = [Int](repeating: 0, count: table.count)
        var symbols: [String] = []
        var finalCounts: [Int] = []
        symbols.reserveCapacity(kept.count + 1)
        for (newID, old) in kept.enumerated() {
            remap[old] = newID
            symbols.append(String(decoding: table.bytes(of: old), as: UTF8.self))
            finalCounts.append(counts[old])
        }
        var unknownID: Int?
        if kept.count < order.count {
            let u = kept.count
            unknownID = u
            var merged = 0
            for old in order[kept.count...] {
                remap[old] = u
                merged += counts[old]
            }
            symbols.append("\u{FFFD}")
            finalCounts.append(merged)
        }
        // The parts fit by construction: distinct non-empty keys, one count each.
        let vocabulary = try! Vocabulary(symbols: symbols, counts: finalCounts, unknownID: unknownID)
        let ids = tokens.remapped(by: remap, vocabularySize: vocabulary.count)
        return (vocabulary, keepTokens ? ids : TokenSequence(vocabularySize: vocabulary.count))
    }
}

/// Maps symbols to the ids of a fixed vocabulary, sending symbols it lacks to the unknown
/// symbol and remembering which they were.
struct VocabularyEncoder: SymbolSink {
    private let vocabulary: Vocabulary
    private(set) var tokens: TokenBuffer
    /// The distinct symbols not in the vocabulary, in order of first appearance.
    private(set) var missing = SymbolTable(minimumCapacity: 8)
    /// How many symbols (occurrences) were not in the vocabulary.
    private(set) var missingCount = 0
    /// Leave missing symbols out of `tokens` instead of writing the unknown id.
    private let dropMissing: Bool

    init(vocabulary: Vocabulary, reservation: Int, dropMissing: Bool = false) {
        self.vocabulary = vocabulary
        self.dropMissing = dropMissing
        tokens = TokenBuffer(reservation: reservation, wide: vocabulary.count > 65_536)
    }

    @inline(__always)
    mutating func accept(_ symbol: UnsafeBufferPointer<UInt8>) {
        let p = symbol.baseAddress!
        var id: Int?
        if symbol.count == 1 {
            let a = vocabulary.asciiIDs[Int(p[0])]
            id = a >= 0 ? a : nil
        } else {
            id = vocabulary.table.id(of: p, count: symbol.count)
        }
        if id == nil {
            missingCount += 1
            _ = missing.insert(p, count: symbol.count)
            if dropMissing { return }
        }
        tokens.append(id ?? vocabulary.unknownID ?? 0)
    }

    mutating func acceptSingleBytes(_ run: UnsafeBufferPointer<UInt8>) {
        if run.contains(where: { vocabulary.asciiIDs[Int($0)] < 0 }) {
            for k in run.indices { accept(UnsafeBufferPointer(rebasing: run[k..<k + 1])) }
            return
        }
        vocabulary.asciiIDs.withUnsafeBufferPointer { tokens.append(mapping: run, through: $0) }
    }
}

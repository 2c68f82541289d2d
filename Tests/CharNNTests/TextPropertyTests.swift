import PropertyBased
import Testing
@testable import CharNN

/// Random text: 0 to 40 pieces from ``textPieces``, which mix ASCII, combining marks, CJK,
/// Hangul syllables and jamo, Devanagari, Arabic, emoji with ZWJ and skin tones, regional
/// indicators, CR and LF.
let randomText = Gen<String?>.element(of: textPieces).array(of: 0...40).map { $0.compactMap { $0 }.joined() }

/// Random bytes, mostly ASCII and bytes that start or continue UTF-8 sequences.
let randomBytes = Gen<UInt8?>.element(of: [
    0x41, 0x0A, 0x0D, 0x20, 0x80, 0x8F, 0x9F, 0xA0, 0xBF, 0xC0, 0xC3, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF,
] as [UInt8]).array(of: 0...24).map { $0.compactMap { $0 } }

@Suite("Text: properties")
struct TextPropertyTests {
    @Test("decode(encode(x)) == normalize(x), byte for byte", arguments: SymbolUnit.allCases, Normalization.allCases)
    func roundTrip(_ unit: SymbolUnit, _ normalization: Normalization) async {
        let options = TextOptions(unit: unit, normalization: normalization)
        await propertyCheck(count: 300, input: randomText) { text in
            let corpus = try Tokenizer.build(text: text, options: options)
            let t = corpus.tokenizer
            let normalized = t.normalize(text)
            #expect(bytes(t.decode(corpus.tokens)) == bytes(normalized), "\(scalars(text))")
            #expect(bytes(t.decode(try t.encode(text).tokens)) == bytes(normalized))
            // Normalization equals utf8proc on the whole text at once.
            #expect(bytes(normalized) == bytes(TextReference.normalize(text, normalization)), "\(scalars(text))")
            // Cutting equals plain utf8proc segmentation of the whole text.
            #expect(bytes(t.symbols(of: text)) == bytes(TextReference.symbols(text, options)), "\(scalars(text))")
            #expect(corpus.tokens.count == t.vocabulary.totalCount)
        }
    }

    @Test("tiny chunks give the same vocabulary and ids as one chunk", arguments: SymbolUnit.allCases, Normalization.allCases)
    func chunking(_ unit: SymbolUnit, _ normalization: Normalization) async {
        let options = TextOptions(unit: unit, normalization: normalization)
        await propertyCheck(count: 150, input: randomText, Gen.int(in: 1...12)) { text, chunkSize in
            let whole = try Tokenizer.build(
                text.utf8, file: nil, dropByteOrderMark: false, options: options, keepTokens: true, chunkSize: 1 << 30)
            let chunked = try Tokenizer.build(
                text.utf8, file: nil, dropByteOrderMark: false, options: options, keepTokens: true, chunkSize: chunkSize)
            #expect(chunked == whole, "chunk size \(chunkSize): \(scalars(text))")
            let encoded = try whole.tokenizer.encode(text.utf8, file: nil, dropByteOrderMark: false, chunkSize: chunkSize)
            #expect(encoded.tokens == whole.tokens)
        }
    }

    @Test("repair matches String(decoding:as:), chunked or not")
    func repair() async {
        await propertyCheck(count: 500, input: randomBytes, Gen.int(in: 1...8)) { raw, chunkSize in
            let options = TextOptions(unit: .scalar, normalization: .none, replaceInvalid: true)
            var sink = ByteCollectingSink()
            let replaced = try TextPipeline.run(
                raw, options: options, file: nil, dropByteOrderMark: false, chunkSize: chunkSize, into: &sink)
            let expected = Array(String(decoding: raw, as: UTF8.self).utf8)
            #expect(sink.bytes == expected, "\(raw)")
            let valid = String(validating: raw, as: UTF8.self) != nil
            #expect((replaced == 0) == valid)
            // Without repair, exactly the invalid inputs fail.
            let strict = TextOptions(unit: .scalar, normalization: .none)
            var other = ByteCollectingSink()
            let failed = (try? TextPipeline.run(raw, options: strict, file: nil, dropByteOrderMark: false, into: &other)) == nil
            #expect(failed == !valid)
        }
    }

    @Test("every scalar alone normalizes like utf8proc", arguments: [Normalization.nfc, .nfkc])
    func everyScalar(_ form: Normalization) {
        // Each scalar once, with a base letter before and a mark after, so composition with
        // neighbours is exercised everywhere: cheap insurance for the boundary table.
        var failures: [String] = []
        let t = Tokenizer(options: TextOptions(normalization: form), vocabulary: try! Vocabulary(counting: ""))
        var v: UInt32 = 0
        while v < 0x110000 {
            var batch = ""
            for cp in v..<min(v + 4096, 0x110000) {
                guard let s = Unicode.Scalar(cp), cp != 0 else { continue }
                batch.unicodeScalars.append("a")
                batch.unicodeScalars.append(s)
                batch.unicodeScalars.append("\u{301}")
            }
            if bytes(t.normalize(batch)) != bytes(TextReference.normalize(batch, form)) {
                failures.append(String(v, radix: 16))
            }
            v += 4096
        }
        #expect(failures.isEmpty, "blocks starting at \(failures)")
    }
}

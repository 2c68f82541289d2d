import Foundation
import Testing
@testable import CharNN

@Suite("Text: vocabulary, tokens, serialization")
struct TextVocabularyTests {
    @Test("most frequent first, ties by UTF-8 bytes")
    func order() throws {
        let v = try Vocabulary(counting: "abracadabra")
        #expect(v.symbols == ["a", "b", "r", "c", "d"])
        #expect(v.counts == [5, 2, 2, 1, 1])
        #expect(v.unknownID == nil)
        #expect(v.totalCount == 11)
        // Byte order, not Swift's String order: "Z" (0x5A) before "a", "é" (C3 A9) before "中" (E4...).
        let w = try Vocabulary(counting: "中éaZ")
        #expect(bytes(w.symbols) == bytes(["Z", "a", "é", "中"]))
    }

    @Test("minCount merges rare symbols into one unknown symbol, decoded as U+FFFD")
    func minCount() throws {
        let options = TextOptions(minCount: 2)
        let corpus = try Tokenizer.build(text: "abracadabra", options: options)
        let v = corpus.tokenizer.vocabulary
        #expect(v.symbols == ["a", "b", "r", "\u{FFFD}"])
        #expect(v.counts == [5, 2, 2, 2])
        #expect(v.unknownID == 3)
        #expect(Array(corpus.tokens) == [0, 1, 2, 0, 3, 0, 3, 0, 1, 2, 0])
        #expect(corpus.tokenizer.decode(corpus.tokens) == "abra\u{FFFD}a\u{FFFD}abra")
        let e = try corpus.tokenizer.encode("cab!")
        #expect(Array(e.tokens) == [3, 0, 1, 3])
        #expect(e.unknownSymbols == ["c", "!"])
        #expect(e.unknownCount == 2)
        #expect(v.id(of: "c") == nil)
        #expect(v.id(of: "\u{FFFD}") == nil)
    }

    @Test("a real U+FFFD keeps its own id beside the unknown symbol")
    func realReplacementCharacter() throws {
        let corpus = try Tokenizer.build(text: "\u{FFFD}\u{FFFD}x", options: TextOptions(minCount: 2))
        let v = corpus.tokenizer.vocabulary
        #expect(v.symbols == ["\u{FFFD}", "\u{FFFD}"])
        #expect(v.unknownID == 1)
        #expect(v.id(of: "\u{FFFD}") == 0)
        #expect(Array(corpus.tokens) == [0, 0, 1])
    }

    @Test("without an unknown symbol, encoding a new symbol is an error naming it")
    func missingSymbols() throws {
        let t = try Tokenizer.build(text: "abc").tokenizer
        #expect(throws: TextError.symbolsNotInVocabulary(file: nil, distinct: 2, examples: ["x", "\n"])) {
            _ = try t.encode("ax\nx")
        }
    }

    @Test("min count below 1 is rejected", arguments: [0, -3])
    func badMinCount(_ n: Int) {
        #expect(throws: TextError.invalidMinCount(n)) { _ = try Tokenizer.build(text: "a", options: TextOptions(minCount: n)) }
    }

    @Test("NFC and NFD spellings stay distinct symbols when not normalized")
    func noCanonicalMerging() throws {
        let options = TextOptions(normalization: .none)
        let corpus = try Tokenizer.build(text: "\u{E9}e\u{301}\u{E9}", options: options)
        let v = corpus.tokenizer.vocabulary
        #expect(v.count == 2)
        #expect(bytes(v.symbols) == bytes(["\u{E9}", "e\u{301}"]))
        #expect(v.id(of: "\u{E9}") == 0)
        #expect(v.id(of: "e\u{301}") == 1)
        #expect(bytes(corpus.tokenizer.decode(corpus.tokens)) == bytes("\u{E9}e\u{301}\u{E9}"))
        // Equality is byte-wise too: these vocabularies differ only in NFC vs NFD.
        let a = try Vocabulary(symbols: ["\u{E9}"], counts: [1], unknownID: nil)
        let b = try Vocabulary(symbols: ["e\u{301}"], counts: [1], unknownID: nil)
        #expect(a != b)
        // And the two spellings are not a duplicate.
        #expect(throws: Never.self) { try Vocabulary(symbols: ["\u{E9}", "e\u{301}"], counts: [1, 1], unknownID: nil) }
        #expect(throws: TextError.self) { try Vocabulary(symbols: ["x", "x"], counts: [1, 1], unknownID: nil) }
    }

    @Test("stable JSON form, and a byte-exact round trip")
    func json() throws {
        let t = try Tokenizer.build(text: "aab\n", options: TextOptions(minCount: 2)).tokenizer
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(t), as: UTF8.self)
        #expect(json == #"{"options":{"minCount":2,"normalization":"nfc","replaceInvalid":false,"unit":"grapheme"},"#
            + #""vocabulary":{"counts":[2,2],"symbols":["a","\ufffd"],"unknownID":1}}"#
            || json == #"{"options":{"minCount":2,"normalization":"nfc","replaceInvalid":false,"unit":"grapheme"},"#
            + #""vocabulary":{"counts":[2,2],"symbols":["a","�"],"unknownID":1}}"#)
        let back = try JSONDecoder().decode(Tokenizer.self, from: Data(json.utf8))
        #expect(back == t)

        let nfd = try Tokenizer.build(text: "e\u{301}\n\t", options: TextOptions(normalization: .none)).tokenizer
        let data = try encoder.encode(nfd)
        let decoded = try JSONDecoder().decode(Tokenizer.self, from: data)
        #expect(decoded == nfd)
        #expect(bytes(decoded.vocabulary.symbols) == bytes(nfd.vocabulary.symbols))
        let empty = try encoder.encode(try Vocabulary(counting: ""))
        #expect(String(decoding: empty, as: UTF8.self) == #"{"counts":[],"symbols":[],"unknownID":null}"#)
    }

    @Test("a damaged vocabulary is rejected when decoded")
    func damagedJSON() {
        let json = #"{"counts":[1],"symbols":["a","b"],"unknownID":null}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Vocabulary.self, from: Data(json.utf8)) }
    }

    @Test("ids are UInt16 up to 65,536 symbols, UInt32 beyond, narrowed again by minCount")
    func widths() throws {
        let small = try Tokenizer.build(text: "hello")
        guard case .u16 = small.tokens else { Issue.record("expected UInt16 ids"); return }
        #expect(small.tokens.bytesPerToken == 2)

        // 70,000 distinct scalars: CJK, Hangul syllables and CJK extension B.
        var text = String.UnicodeScalarView()
        for v in UInt32(0x4E00)..<0x9FFF { text.append(Unicode.Scalar(v)!) }
        for v in UInt32(0xAC00)...0xD7A3 { text.append(Unicode.Scalar(v)!) }
        for v in UInt32(0x20000)..<UInt32(0x20000 + 70_000 - text.count) { text.append(Unicode.Scalar(v)!) }
        text.append(Unicode.Scalar(0x4E00)!)
        let big = String(text)
        let wide = try Tokenizer.build(text: big, options: TextOptions(unit: .scalar))
        #expect(wide.tokenizer.vocabulary.count == 70_000)
        guard case .u32 = wide.tokens else { Issue.record("expected UInt32 ids"); return }
        #expect(wide.tokens.count == 70_001)
        #expect(wide.tokens[0] == 0 && wide.tokens[70_000] == 0)  // the one symbol seen twice comes first
        #expect(bytes(wide.tokenizer.decode(wide.tokens)) == bytes(big))
        guard case .u32 = try wide.tokenizer.encode("一丁").tokens else { Issue.record("expected UInt32"); return }

        let merged = try Tokenizer.build(text: big, options: TextOptions(unit: .scalar, minCount: 2))
        #expect(merged.tokenizer.vocabulary.count == 2)
        guard case .u16 = merged.tokens else { Issue.record("expected UInt16 after merging"); return }
        #expect(merged.tokens.count == 70_001)
    }

    @Test("copying a range of ids into an Int32 buffer")
    func copy() throws {
        let corpus = try Tokenizer.build(text: "abracadabra")
        var out = [Int32](repeating: -1, count: 5)
        out.withUnsafeMutableBufferPointer { corpus.tokens.copy(3..<7, into: $0) }
        #expect(out == [0, 3, 0, 4, -1])
        let ids: [Int32] = [7, 0, 70_000]
        let wide = TokenSequence(ids.map(Int.init), vocabularySize: 70_001)
        var w = [Int32](repeating: 0, count: 3)
        w.withUnsafeMutableBufferPointer { wide.copy(0..<3, into: $0) }
        #expect(w == ids)
        #expect(Array(wide) == ids)
    }

    @Test("symbol escaping for tables", arguments: [
        ("\n", #""\n""#), ("\t", #""\t""#), ("\r\n", #""\r\n""#), (" ", #"" ""#), ("a", #""a""#),
        ("\u{200D}", #""\u{200D}""#), ("\u{301}", #""\u{301}""#), ("e\u{301}", "\"e\u{301}\""),
        ("\"", #""\"""#), ("\u{A0}", #""\u{A0}""#), ("👍\u{1F3FD}", "\"👍\u{1F3FD}\""),
    ])
    func escaping(_ symbol: String, _ shown: String) {
        #expect(bytes(SymbolEscaping.quoted(symbol)) == bytes(shown))
    }
}

import Testing
@_spi(Internals) @testable import CharNN

/// A file's bytes with an invalid sequence somewhere, and what must be reported.
struct InvalidCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let offset: Int
    let line: Int
    let replaced: Int
    let repairedText: String
    var testDescription: String { name }
}

let invalidCases: [InvalidCase] = [
    InvalidCase(name: "stray byte at the start", bytes: [0xFF] + Array("ab".utf8),
                offset: 0, line: 1, replaced: 1, repairedText: "\u{FFFD}ab"),
    InvalidCase(name: "truncated sequence in the middle", bytes: Array("ab\ncd".utf8) + [0xC3] + Array("\nx".utf8),
                offset: 5, line: 2, replaced: 1, repairedText: "ab\ncd\u{FFFD}\nx"),
    InvalidCase(name: "truncated euro sign at the end", bytes: Array("a\nb\nabc".utf8) + [0xE2, 0x82],
                offset: 7, line: 3, replaced: 1, repairedText: "a\nb\nabc\u{FFFD}"),
    InvalidCase(name: "overlong slash", bytes: Array("x".utf8) + [0xC0, 0xAF] + Array("y".utf8),
                offset: 1, line: 1, replaced: 2, repairedText: "x\u{FFFD}\u{FFFD}y"),
    InvalidCase(name: "encoded surrogate", bytes: [0x41, 0xED, 0xA0, 0x80, 0x42],
                offset: 1, line: 1, replaced: 3, repairedText: "A\u{FFFD}\u{FFFD}\u{FFFD}B"),
    InvalidCase(name: "beyond U+10FFFF", bytes: [0xF4, 0x90, 0x80, 0x80],
                offset: 0, line: 1, replaced: 4, repairedText: "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
    InvalidCase(name: "offset counts the BOM", bytes: UTF8Validation.byteOrderMark + Array("é".utf8) + [0x80],
                offset: 5, line: 1, replaced: 1, repairedText: "é\u{FFFD}"),
    InvalidCase(name: "CRLF lines", bytes: Array("one\r\ntwo\r\nthree ".utf8) + [0xFE],
                offset: 16, line: 3, replaced: 1, repairedText: "one\r\ntwo\r\nthree \u{FFFD}"),
]

@Suite("Text: UTF-8 validation, BOM, empty input")
struct TextValidationTests {
    @Test("invalid UTF-8 names the byte offset and line", arguments: invalidCases)
    func rejects(_ c: InvalidCase) {
        #expect(throws: TextError.invalidUTF8(file: "corpus.txt", byteOffset: c.offset, line: c.line)) {
            _ = try Tokenizer.build(bytes: c.bytes, file: "corpus.txt")
        }
        #expect(throws: TextError.invalidUTF8(file: "corpus.txt", byteOffset: c.offset, line: c.line)) {
            _ = try DecodedText(bytes: c.bytes, file: "corpus.txt")
        }
    }

    @Test("replaceInvalid substitutes U+FFFD per maximal subpart and counts", arguments: invalidCases)
    func replaces(_ c: InvalidCase) throws {
        let options = TextOptions(normalization: .none, replaceInvalid: true)
        let decoded = try DecodedText(bytes: c.bytes, file: "corpus.txt", options: options)
        #expect(decoded.replacedSequences == c.replaced)
        #expect(bytes(decoded.text) == bytes(c.repairedText))
        // The same as the standard library's repair (after the BOM, which it keeps).
        let body = c.bytes.starts(with: UTF8Validation.byteOrderMark) ? Array(c.bytes.dropFirst(3)) : c.bytes
        #expect(bytes(decoded.text) == bytes(String(decoding: body, as: UTF8.self)))
        let corpus = try Tokenizer.build(bytes: c.bytes, options: options)
        #expect(corpus.replacedSequences == c.replaced)
        #expect(bytes(corpus.tokenizer.decode(corpus.tokens)) == bytes(c.repairedText))
    }

    @Test("error message is one line naming file, offset and line")
    func message() {
        let e = TextError.invalidUTF8(file: "corpus.txt", byteOffset: 1234, line: 7)
        #expect(e.description == "corpus.txt: invalid UTF-8 at byte offset 1234 (line 7)")
        #expect(!TextError.symbolsNotInVocabulary(file: nil, distinct: 2, examples: ["\n", "x"]).description.contains("\n"))
    }

    @Test("a leading BOM is dropped, an inner one kept")
    func byteOrderMark() throws {
        let corpus = try Tokenizer.build(bytes: UTF8Validation.byteOrderMark + Array("hi\u{FEFF}".utf8))
        #expect(bytes(corpus.tokenizer.vocabulary.symbols) == bytes(["h", "i", "\u{FEFF}"]))
        #expect(bytes(corpus.tokenizer.decode(corpus.tokens)) == bytes("hi\u{FEFF}"))
        let decoded = try DecodedText(bytes: UTF8Validation.byteOrderMark + Array("x".utf8))
        #expect(bytes(decoded.text) == [0x78])
    }

    @Test("empty input and BOM-only input have an empty vocabulary", arguments: [[], UTF8Validation.byteOrderMark])
    func empty(_ input: [UInt8]) throws {
        let corpus = try Tokenizer.build(bytes: input, file: "empty.txt")
        #expect(corpus.tokenizer.vocabulary.count == 0)
        #expect(corpus.tokens.isEmpty)
        #expect(corpus.symbolCount == 0)
        #expect(corpus.tokenizer.decode(corpus.tokens) == "")
    }

    @Test("validation agrees with the standard library on short byte strings")
    func exhaustiveShort() {
        // Every 1- and 2-byte string, and 3-byte strings over interesting bytes.
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                    0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var cases: [[UInt8]] = (0...255).map { [UInt8($0)] }
        for a in 0...255 { for b in interesting { cases.append([UInt8(a), b]) } }
        for a in interesting { for b in interesting { for c in interesting { for d in [0x80, 0x41] as [UInt8] {
            cases.append([a, b, c, d])
        } } } }
        var mismatches = 0
        for c in cases {
            let valid = c.withUnsafeBufferPointer { UTF8Validation.firstInvalidOffset(in: $0) } == nil
            var repaired: [UInt8] = []
            _ = c.withUnsafeBufferPointer { UTF8Validation.appendRepairing($0, to: &repaired) }
            if valid != (String(validating: c, as: UTF8.self) != nil)
                || repaired != Array(String(decoding: c, as: UTF8.self).utf8) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test("files: missing, a directory, and a real file")
    func files() throws {
        #expect(throws: TextError.fileNotFound(path: "/nonexistent/corpus.txt")) {
            _ = try TextFile.read(atPath: "/nonexistent/corpus.txt")
        }
        #expect(throws: TextError.isDirectory(path: "/tmp")) { _ = try TextFile.read(atPath: "/tmp") }
        #expect(TextError.isDirectory(path: "/tmp").description == "/tmp: is a directory, not a text file")
        let bytes = try TextFile.read(atPath: "/proc/self/status")  // reports size 0; read anyway
        #expect(bytes.count > 0)
    }
}

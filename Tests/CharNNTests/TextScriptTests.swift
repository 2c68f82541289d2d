import Testing
@testable import CharNN

/// One row of the script tables: a text, how to cut it, and the exact symbols expected.
struct ScriptCase: Sendable, CustomTestStringConvertible {
    let name: String
    let input: String
    let unit: SymbolUnit
    let normalization: Normalization
    let expected: [String]
    var testDescription: String { "\(name) (\(unit), \(normalization))" }

    init(_ name: String, _ input: String, _ unit: SymbolUnit = .grapheme, _ normalization: Normalization = .nfc,
         _ expected: [String]) {
        self.name = name
        self.input = input
        self.unit = unit
        self.normalization = normalization
        self.expected = expected
    }
}

let scriptCases: [ScriptCase] = [
    // Latin with combining marks, precomposed (NFC) and decomposed (NFD) input.
    ScriptCase("Latin NFC input", "caf\u{E9}", .grapheme, .nfc, ["c", "a", "f", "\u{E9}"]),
    ScriptCase("Latin NFD input composes", "cafe\u{301}", .grapheme, .nfc, ["c", "a", "f", "\u{E9}"]),
    ScriptCase("Latin NFD kept without normalization", "cafe\u{301}", .grapheme, .none, ["c", "a", "f", "e\u{301}"]),
    ScriptCase("Latin NFD as scalars", "cafe\u{301}", .scalar, .none, ["c", "a", "f", "e", "\u{301}"]),
    ScriptCase("Latin NFD as scalars after NFC", "cafe\u{301}", .scalar, .nfc, ["c", "a", "f", "\u{E9}"]),
    ScriptCase("marks reordered then composed", "a\u{302}\u{323}", .grapheme, .nfc, ["\u{1EAD}"]),
    ScriptCase("two-step composition", "u\u{308}\u{304}s", .grapheme, .nfc, ["\u{1D6}", "s"]),
    ScriptCase("Vietnamese", "Vie\u{323}\u{302}t", .grapheme, .nfc, ["V", "i", "\u{1EC7}", "t"]),
    ScriptCase("Angstrom sign is a singleton", "\u{212B}", .grapheme, .nfc, ["\u{C5}"]),
    ScriptCase("NFKC folds a ligature", "\u{FB01}n", .grapheme, .nfkc, ["f", "i", "n"]),
    ScriptCase("NFC keeps a ligature", "\u{FB01}n", .grapheme, .nfc, ["\u{FB01}", "n"]),
    ScriptCase("NFKC folds full-width and superscript", "\u{FF21}x\u{B2}\u{2460}", .grapheme, .nfkc, ["A", "x", "2", "1"]),
    ScriptCase("NFKC composes compatibility jamo", "\u{3131}\u{314F}", .scalar, .nfkc, ["\u{AC00}"]),
    // Cyrillic.
    ScriptCase("Cyrillic", "Привет, мир", .grapheme, .nfc, ["П", "р", "и", "в", "е", "т", ",", " ", "м", "и", "р"]),
    ScriptCase("Cyrillic short i from NFD", "\u{438}\u{306}", .grapheme, .nfc, ["\u{439}"]),
    // CJK.
    ScriptCase("CJK", "日本語のテキスト", .grapheme, .nfc, ["日", "本", "語", "の", "テ", "キ", "ス", "ト"]),
    ScriptCase("kana voicing mark composes", "\u{304B}\u{3099}", .grapheme, .nfc, ["\u{304C}"]),
    // Devanagari: utf8proc 2.8 implements Unicode 15.0, without the 15.1 conjunct rule, so
    // "स्ते" is two clusters here (Swift's Character, on newer Unicode, makes it one).
    ScriptCase("Devanagari", "नमस्ते", .grapheme, .nfc, ["न", "म", "स्", "ते"]),
    ScriptCase("Devanagari scalars", "नमस्ते", .scalar, .nfc,
               ["\u{928}", "\u{92E}", "\u{938}", "\u{94D}", "\u{924}", "\u{947}"]),
    ScriptCase("composition-excluded nukta letter decomposes", "\u{958}", .grapheme, .nfc, ["\u{915}\u{93C}"]),
    // Arabic.
    ScriptCase("Arabic", "مرحبا", .grapheme, .nfc, ["م", "ر", "ح", "ب", "ا"]),
    ScriptCase("Arabic with harakat", "\u{628}\u{650}\u{633}\u{652}\u{645}\u{650}", .grapheme, .nfc,
               ["\u{628}\u{650}", "\u{633}\u{652}", "\u{645}\u{650}"]),
    ScriptCase("Arabic hamza composes", "\u{627}\u{654}", .grapheme, .nfc, ["\u{623}"]),
    ScriptCase("prepended number sign joins the digit", "\u{600}1 2", .grapheme, .nfc, ["\u{600}1", " ", "2"]),
    // Hangul: syllables, and conjoining jamo (which NFC composes, or keeps as one cluster).
    ScriptCase("Hangul syllables", "한국어", .grapheme, .nfc, ["한", "국", "어"]),
    ScriptCase("conjoining jamo compose", "\u{1112}\u{1161}\u{11AB}", .scalar, .nfc, ["\u{D55C}"]),
    ScriptCase("conjoining jamo one cluster", "\u{1112}\u{1161}\u{11AB}", .grapheme, .none, ["\u{1112}\u{1161}\u{11AB}"]),
    ScriptCase("LV syllable plus T jamo composes", "\u{AC00}\u{11A8}", .grapheme, .nfc, ["\u{AC01}"]),
    ScriptCase("archaic jamo stay one cluster", "\u{1100}\u{1176}", .grapheme, .nfc, ["\u{1100}\u{1176}"]),
    // Emoji.
    ScriptCase("ZWJ family", "👨\u{200D}👩\u{200D}👧!", .grapheme, .nfc, ["👨\u{200D}👩\u{200D}👧", "!"]),
    ScriptCase("ZWJ family as scalars", "👨\u{200D}👩", .scalar, .nfc, ["👨", "\u{200D}", "👩"]),
    ScriptCase("skin tone", "👍\u{1F3FD}👍", .grapheme, .nfc, ["👍\u{1F3FD}", "👍"]),
    ScriptCase("flags pair up", "🇫🇷🇩🇪", .grapheme, .nfc, ["🇫🇷", "🇩🇪"]),
    ScriptCase("odd regional indicator", "🇫🇷🇩", .grapheme, .nfc, ["🇫🇷", "🇩"]),
    ScriptCase("keycap on an ASCII digit", "1\u{FE0F}\u{20E3}2", .grapheme, .nfc, ["1\u{FE0F}\u{20E3}", "2"]),
    // Line endings, tabs, and a BOM that is not at the start.
    ScriptCase("CRLF is one symbol", "a\r\nb", .grapheme, .nfc, ["a", "\r\n", "b"]),
    ScriptCase("CR CRLF LF CR", "\r\r\n\n\r", .grapheme, .nfc, ["\r", "\r\n", "\n", "\r"]),
    ScriptCase("CRLF as scalars", "a\r\n", .scalar, .nfc, ["a", "\r", "\n"]),
    ScriptCase("mark after LF stands alone", "\n\u{301}x", .grapheme, .nfc, ["\n", "\u{301}", "x"]),
    ScriptCase("tabs", "a\tb\t", .grapheme, .nfc, ["a", "\t", "b", "\t"]),
    ScriptCase("inner BOM is a symbol", "a\u{FEFF}b", .grapheme, .nfc, ["a", "\u{FEFF}", "b"]),
    ScriptCase("empty", "", .grapheme, .nfc, []),
]

@Suite("Text: scripts")
struct TextScriptTests {
    @Test("symbols of each script", arguments: scriptCases)
    func symbols(_ c: ScriptCase) throws {
        let options = TextOptions(unit: c.unit, normalization: c.normalization)
        let tokenizer = try Tokenizer.build(text: c.input, options: options).tokenizer
        let got = tokenizer.symbols(of: c.input)
        #expect(bytes(got) == bytes(c.expected), "got \(got.map(scalars)), expected \(c.expected.map(scalars))")
        // The reference (plain utf8proc on the whole text) agrees.
        #expect(bytes(TextReference.symbols(c.input, options)) == bytes(c.expected))
    }

    @Test("round trip of each script", arguments: scriptCases)
    func roundTrip(_ c: ScriptCase) throws {
        let options = TextOptions(unit: c.unit, normalization: c.normalization)
        let corpus = try Tokenizer.build(text: c.input, options: options)
        let decoded = corpus.tokenizer.decode(corpus.tokens)
        #expect(bytes(decoded) == bytes(c.expected.joined()))
        #expect(bytes(decoded) == bytes(corpus.tokenizer.normalize(c.input)))
        #expect(corpus.tokens.count == c.expected.count)
        #expect(corpus.symbolCount == c.expected.count)
        #expect(try corpus.tokenizer.encode(c.input).tokens == corpus.tokens)
    }
}

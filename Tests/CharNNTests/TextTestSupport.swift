import CUTF8Proc
#if canImport(Glibc)
import Glibc
#endif
@testable import CharNN

/// Reference implementations for the text tests: utf8proc called the plain way, on a whole
/// text at once, with none of the library's chunking or fast paths.
enum TextReference {
    /// utf8proc's NFC or NFKC of the whole text (or the text itself for `.none`).
    static func normalize(_ text: String, _ form: Normalization) -> String {
        let options: UInt32
        switch form {
        case .none: return text
        case .nfc: options = UTF8PROC_STABLE.rawValue | UTF8PROC_COMPOSE.rawValue
        case .nfkc: options = UTF8PROC_STABLE.rawValue | UTF8PROC_COMPOSE.rawValue | UTF8PROC_COMPAT.rawValue
        }
        let bytes = Array(text.utf8)
        var out: UnsafeMutablePointer<UInt8>?
        let n = bytes.withUnsafeBufferPointer { b in
            utf8proc_map(b.baseAddress, b.count, &out, utf8proc_option_t(options))
        }
        precondition(n >= 0, "utf8proc_map failed")
        defer { free(out) }
        return String(decoding: UnsafeBufferPointer(start: out, count: n), as: UTF8.self)
    }

    /// Grapheme clusters by calling utf8proc_grapheme_break_stateful on every scalar pair.
    static func graphemes(_ text: String) -> [String] {
        var result: [String] = []
        var current = String.UnicodeScalarView()
        var state: Int32 = 0
        var previous: Int32 = -1
        for s in text.unicodeScalars {
            let cp = Int32(s.value)
            if previous >= 0 && utf8proc_grapheme_break_stateful(previous, cp, &state) {
                result.append(String(current))
                current = String.UnicodeScalarView()
            }
            current.append(s)
            previous = cp
        }
        if !current.isEmpty { result.append(String(current)) }
        return result
    }

    /// The symbols of `text` as the library should cut them, from the references above.
    static func symbols(_ text: String, _ options: TextOptions) -> [String] {
        let normalized = normalize(text, options.normalization)
        switch options.unit {
        case .grapheme: return graphemes(normalized)
        case .scalar: return normalized.unicodeScalars.map { String($0) }
        }
    }
}

/// Byte-exact string comparison: `String ==` calls canonically equivalent strings equal,
/// which would hide exactly the bugs these tests look for.
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
func bytes(_ a: [String]) -> [[UInt8]] { a.map { Array($0.utf8) } }

/// Scalar values, for readable failure messages.
func scalars(_ s: String) -> [String] {
    s.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }
}

/// Pieces the property tests build random text from: every script and every tricky case the
/// text layer handles (combining marks in both orders, composition-excluded and
/// non-starter decompositions, conjoining and compatibility jamo, emoji sequences, regional
/// indicators, prepended marks, CR/LF, compatibility characters, a BOM in mid-text, U+FFFD).
let textPieces: [String] = [
    "a", "e", "o", "u", "Z", "n", "i", " ", "1", ".", "\t", "\u{7F}",
    "\u{0301}", "\u{0308}", "\u{0323}", "\u{0302}", "\u{0327}", "\u{031B}", "\u{0304}",
    "\u{00E9}", "\u{00FC}", "\u{01D6}", "\u{00C5}", "\u{212B}", "\u{00F1}", "\u{1EAD}",
    "и", "й", "\u{0306}", "Ж", "ё", "Привет",
    "日", "本", "語", "か", "\u{3099}", "が", "\u{FF21}", "\u{FB01}", "①", "²", "\u{FDFA}",
    "한", "가", "\u{1100}", "\u{1112}", "\u{1161}", "\u{1176}", "\u{11A7}", "\u{11A8}", "\u{11AB}",
    "\u{3131}", "\u{314F}",
    "क", "ष", "\u{094D}", "\u{093C}", "\u{0958}", "\u{0947}", "नमस्ते",
    "ا", "ب", "\u{0654}", "\u{0650}", "\u{0600}", "مرحبا",
    "\u{0F71}", "\u{0F72}", "\u{0F73}", "\u{0344}", "\u{0B47}", "\u{0B3E}", "\u{09C7}", "\u{09BE}",
    "\u{1D15E}", "\u{110BA}", "\u{11127}", "\u{11131}",
    "👨", "👩", "👧", "\u{200D}", "👍", "\u{1F3FD}", "🇫", "🇷", "🇩", "\u{FE0F}", "\u{20E3}",
    "\r", "\n", "\r\n", "\u{FEFF}", "\u{FFFD}", "\u{2028}",
]

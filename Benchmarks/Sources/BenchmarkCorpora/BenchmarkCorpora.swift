@_spi(Internals) import CharNN

#if canImport(Glibc)
import Glibc
#endif

/// The texts the throughput benchmarks tokenize.
public enum BenchmarkCorpora {
    /// English: Tiny Shakespeare (1.1 MB), read at run time from the shared reference corpora in
    /// `../shared/corpora-ref/` beside the repository (never copied into it), found from this
    /// source file so the benchmark works from any directory and any clone.
    /// `CHARNN_ENGLISH_CORPUS` overrides the path.
    public static var englishPath: String {
        if let p = getenv("CHARNN_ENGLISH_CORPUS") { return String(cString: p) }
        // This file is <repository>/Benchmarks/Sources/BenchmarkCorpora/BenchmarkCorpora.swift.
        let repository = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(4).joined(separator: "/")
        return repository + "/../shared/corpora-ref/tinyshakespeare.txt"
    }

    /// The English corpus's bytes.
    public static func english() throws -> [UInt8] {
        try TextFile.read(atPath: englishPath)
    }

    /// Words of each script. Latin is written in NFD (base letter + combining marks), so NFC
    /// has real work to do; the others mix precomposed letters, marks and emoji sequences.
    static let scripts: [[String]] = [
        ["cafe\u{301}", "nai\u{308}ve", "Vie\u{323}\u{302}t", "resume\u{301}", "Zu\u{308}rich", "an\u{303}o",
         "franc\u{327}ais", "the", "and", "of", "garc\u{327}on", "Ha\u{301}vel", "S\u{30C}koda", "o\u{308}l"],
        ["Привет", "мир", "который", "ёлка", "йогурт", "Москва", "слово", "и", "в", "не", "и\u{306}од"],
        ["日本語", "中文", "漢字", "東京", "今日は", "天気", "がいい", "です", "学生", "か\u{3099}"],
        ["नमस्ते", "हिन्दी", "भारत", "क़िला", "दुनिया", "में", "है", "और", "का"],
        ["مرحبا", "العربية", "سلام", "كتاب", "بِسْمِ", "في", "من", "على"],
        ["한국어", "안녕하세요", "서울", "사랑", "\u{1112}\u{1161}\u{11AB}", "의", "는"],
        ["👍\u{1F3FD}", "👨\u{200D}👩\u{200D}👧", "🇫🇷", "😀", "❤\u{FE0F}", "🇯🇵", "🎉"],
    ]

    /// About `byteCount` bytes of lines mixing all scripts, from a fixed seed (the same text
    /// every run).
    public static func mixedScript(byteCount: Int = 5_000_000) -> [UInt8] {
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % UInt64(n))
        }
        var out: [UInt8] = []
        out.reserveCapacity(byteCount + 256)
        while out.count < byteCount {
            // A line: a few words from one script, then a few from another, as in mixed corpora.
            let words = 6 + next(10)
            var script = next(scripts.count)
            for w in 0..<words {
                if w % 4 == 0 { script = next(scripts.count) }
                let list = scripts[script]
                out.append(contentsOf: list[next(list.count)].utf8)
                out.append(w == words - 1 ? (next(8) == 0 ? 0x2E : 0x2C) : 0x20)
            }
            out.append(0x0A)
        }
        return out
    }
}

import BenchmarkCorpora
@_spi(Internals) import CharNN

#if canImport(Glibc)
import Glibc
#endif

// text-throughput                 MB/s table: English and mixed, each unit × normalization
// text-throughput --encode FILE   tokenize FILE once (for /usr/bin/time -v peak memory)
// text-throughput --write-mixed FILE [MB]   write the generated mixed-script text

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

func format(_ x: Double, _ decimals: Int = 1) -> String {
    let scale = Double([1, 10, 100, 1000][decimals])
    let v = (x * scale).rounded() / scale
    return String(v)
}

func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }

let arguments = CommandLine.arguments
if arguments.count == 3 && arguments[1] == "--encode" {
    let start = ContinuousClock.now
    do {
        let corpus = try Tokenizer.build(fromFile: arguments[2], options: TextOptions())
        let t = seconds(start.duration(to: .now))
        print("symbols \(corpus.tokens.count), vocabulary \(corpus.tokenizer.vocabulary.count), "
            + "\(corpus.tokens.bytesPerToken) bytes per id, \(format(t, 2)) s")
    } catch {
        print("error: \(error)")
        exit(1)
    }
    exit(0)
}

if arguments.count >= 3 && arguments[1] == "--write-mixed" {
    let megabytes = arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5
    let bytes = BenchmarkCorpora.mixedScript(byteCount: megabytes * 1_000_000)
    guard let f = fopen(arguments[2], "wb") else {
        print("cannot write \(arguments[2])")
        exit(1)
    }
    _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
    exit(0)
}

let runs = 7
let english: [UInt8]
do { english = try BenchmarkCorpora.english() } catch {
    print("cannot read the English corpus: \(error)")
    exit(1)
}
let mixed = BenchmarkCorpora.mixedScript()
print("Tokenizer.build throughput, MB/s (10^6 input bytes per second), median of \(runs) runs")
print("English: \(BenchmarkCorpora.englishPath), \(english.count) bytes; mixed: generated, \(mixed.count) bytes")
print("| corpus | unit | normalization | MB/s | symbols | vocabulary |")
print("|---|---|---|---|---|---|")
for (name, bytes) in [("English", english), ("mixed", mixed)] {
    for unit in SymbolUnit.allCases {
        for form in [Normalization.nfc, .none, .nfkc] {
            let options = TextOptions(unit: unit, normalization: form)
            var times: [Double] = []
            var last: TokenizedCorpus?
            for _ in 0..<runs {
                let start = ContinuousClock.now
                last = try! Tokenizer.build(bytes: bytes, options: options)
                times.append(seconds(start.duration(to: .now)))
            }
            let median = times.sorted()[runs / 2]
            print("| \(name) | \(unit) | \(form) | \(format(Double(bytes.count) / 1e6 / median)) | "
                + "\(last!.tokens.count) | \(last!.tokenizer.vocabulary.count) |")
        }
    }
}

@_spi(Internals) import CharNN
import Foundation
import Testing

@Suite("Prepared corpora: charnn prepare and training from a mapped corpus", .timeLimit(.minutes(5)))
struct PreparedCorpusTests {
    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func text(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    /// Several files and a directory (nested, with a hidden file that must be skipped).
    static func inputs(in dir: String) throws -> (arguments: [String], concatenation: String) {
        let corpus = try writeSmallCorpus(in: dir, name: "a.txt", repeats: 12)
        try write("Zweite Datei: Grüße, café, naïve — 😀 und ein Ende.\n", to: dir + "/b.txt")
        try write("second file in the tree\n", to: dir + "/tree/b/2.txt")
        try write("first file in the tree, é\n", to: dir + "/tree/a.txt")
        try write("third: 春眠不觉晓\n", to: dir + "/tree/b/3.txt")
        try write("hidden, skipped\n", to: dir + "/tree/.hidden.txt")
        let order = [corpus, dir + "/b.txt", dir + "/tree/a.txt", dir + "/tree/b/2.txt", dir + "/tree/b/3.txt"]
        return ([corpus, dir + "/b.txt", dir + "/tree"], try order.map(Self.text).joined())
    }

    @Test("files and a directory, in the documented order, give the ids and vocabulary of their concatenation")
    func equalsConcatenation() throws {
        let dir = try temporaryDirectory("prepare")
        let (arguments, concatenation) = try Self.inputs(in: dir)
        #expect(try CorpusPreparation.inputFiles(arguments).map { $0.replacingOccurrences(of: dir, with: "") }
            == ["/a.txt", "/b.txt", "/tree/a.txt", "/tree/b/2.txt", "/tree/b/3.txt"])
        let whole = try Tokenizer.build(text: concatenation)
        // Tiny windows cross hundreds of window boundaries; the default crosses none.
        for window in [7, 1 << 24] {
            let out = dir + "/prepared-\(window)"
            let report = try CorpusPreparation.prepare(inputs: arguments, output: out, options: TextOptions(), force: false,
                                                       windowBytes: window)
            let corpus = try PreparedCorpus(path: out)
            #expect(corpus.tokenizer == whole.tokenizer)
            #expect(corpus.tokens == whole.tokens, "window \(window)")
            #expect(corpus.info.tokenWidth == 1 && whole.tokenizer.vocabulary.count <= 256)
            #expect(corpus.info.inputs.map(\.symbols).reduce(0, +) == whole.tokens.count)
            #expect(report.info == corpus.info && report.inputBytes == concatenation.utf8.count)
            let size = try FileManager.default.attributesOfItem(atPath: out + "/tokens.bin")[.size] as? Int
            #expect(size == whole.tokens.count)
        }
        // Nothing but the two files, and no staging directory left beside them.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/prepared-7").sorted() == ["corpus.json", "tokens.bin"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test("ids take 2 bytes past 256 symbols, and a mapped slice reads like an array")
    func widths() throws {
        let dir = try temporaryDirectory("prepare-wide")
        let scalars = (0..<600).compactMap { Unicode.Scalar(0x4E00 + $0 * 7) }.map(String.init)
        try Self.write(scalars.joined() + "\n" + scalars.reversed().joined() + "\n", to: dir + "/wide.txt")
        _ = try CorpusPreparation.prepare(inputs: [dir + "/wide.txt"], output: dir + "/out", options: TextOptions())
        let corpus = try PreparedCorpus(path: dir + "/out")
        let whole = try Tokenizer.build(fromFile: dir + "/wide.txt")
        #expect(corpus.info.tokenWidth == 2 && corpus.tokens.bytesPerToken == 2)
        #expect(corpus.tokens == whole.tokens)
        #expect(corpus.tokens.slice(100..<900) == whole.tokens.slice(100..<900))
        #expect(Array(corpus.tokens.slice(5..<9)) == Array(whole.tokens)[5..<9].map { $0 })
        // The fingerprint a resume checks is the same for the mapped and the read corpus.
        #expect(CorpusFingerprint(fileName: "x", tokens: corpus.tokens) == CorpusFingerprint(fileName: "x", tokens: whole.tokens))
    }

    @Test("training from the prepared directory equals training on the concatenated text, and resumes from it")
    func trainsLikeText() throws {
        let dir = try temporaryDirectory("prepare-train")
        let (arguments, concatenation) = try Self.inputs(in: dir)
        try Self.write(concatenation, to: dir + "/all.txt")
        _ = try CorpusPreparation.prepare(inputs: arguments, output: dir + "/prepared", options: TextOptions())
        let options = tinyTrainingOptions(steps: 6)
        let fromText = try TrainingRunTests.train(corpus: dir + "/all.txt", out: dir + "/run-text", options: options, mode: .fresh)
        let fromPrepared = try TrainingRunTests.train(corpus: dir + "/prepared", out: dir + "/run-prepared", options: options, mode: .fresh)
        #expect(fromPrepared.validationLoss == fromText.validationLoss && fromPrepared.trainLoss == fromText.trainLoss)
        let a = try Checkpoint.load(from: dir + "/run-text/latest.safetensors")
        let b = try Checkpoint.load(from: dir + "/run-prepared/latest.safetensors")
        #expect(a.model.parameters.values == b.model.parameters.values && a.tokenizer == b.tokenizer)
        #expect(a.training?.corpus.tokenChecksum == b.training?.corpus.tokenChecksum)
        // Resuming: from the prepared directory, continuing as the text run would.
        let resumed = try TrainingRunTests.train(corpus: dir + "/prepared", out: dir + "/run-prepared",
                                                 options: tinyTrainingOptions(steps: 9), mode: .resume)
        let straight = try TrainingRunTests.train(corpus: dir + "/all.txt", out: dir + "/run-text",
                                                  options: tinyTrainingOptions(steps: 9), mode: .resume)
        #expect(resumed.step == 9 && resumed.trainLoss == straight.trainLoss)
    }

    @Test("bad input and output: one clear error, nothing half-written")
    func refusals() throws {
        let dir = try temporaryDirectory("prepare-bad")
        let good = try writeSmallCorpus(in: dir)
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        try Data([0x7F, 0x45, 0x4C, 0x46, 0, 1, 2]).write(to: URL(fileURLWithPath: dir + "/binary"))
        try Data(Array("fine\nthen bad ".utf8) + [0xFF, 0x0A]).write(to: URL(fileURLWithPath: dir + "/invalid.txt"))
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: dir + "/plain"))
        func prepare(_ inputs: [String], _ out: String = dir + "/out", force: Bool = false) throws {
            _ = try CorpusPreparation.prepare(inputs: inputs, output: out, options: TextOptions(), force: force)
        }
        #expect(throws: TextError.fileNotFound(path: dir + "/missing.txt")) { try prepare([good, dir + "/missing.txt"]) }
        #expect(throws: PreparedCorpusError.noInputFiles(path: dir + "/empty")) { try prepare([dir + "/empty"]) }
        #expect(throws: TextError.notText(path: dir + "/binary", reason: "it is an ELF executable or library")) { try prepare([dir + "/binary"]) }
        #expect(throws: TextError.invalidUTF8(file: dir + "/invalid.txt", byteOffset: 14, line: 2)) { try prepare([good, dir + "/invalid.txt"]) }
        #expect(throws: PreparedCorpusError.self) { try prepare([good], dir + "/plain/out") }
        for leftover in try FileManager.default.contentsOfDirectory(atPath: dir) {
            #expect(!leftover.hasPrefix(".") && leftover != "out", "\(leftover) was left behind")
        }
        // An existing output is kept unless --force, which replaces it whole.
        try prepare([good])
        #expect(throws: PreparedCorpusError.outputExists(path: dir + "/out")) { try prepare([good]) }
        try prepare([good, good], force: true)
        #expect(try PreparedCorpus(path: dir + "/out").info.inputs.count == 2)
    }

    @Test("a damaged, foreign or unprepared directory is refused with one line naming the file")
    func damaged() throws {
        let dir = try temporaryDirectory("prepare-damaged")
        let good = try writeSmallCorpus(in: dir)
        _ = try CorpusPreparation.prepare(inputs: [good], output: dir + "/c", options: TextOptions())
        let tokens = dir + "/c/tokens.bin", info = dir + "/c/corpus.json"
        let original = try Data(contentsOf: URL(fileURLWithPath: tokens))
        let originalInfo = try Self.text(info)

        var flipped = [UInt8](original)
        flipped[flipped.count / 2] ^= 0x01
        try Data(flipped).write(to: URL(fileURLWithPath: tokens))
        #expect(throws: PreparedCorpusError.corrupt(path: tokens, reason: "checksum mismatch: the file changed after it was prepared")) {
            try PreparedCorpus(path: dir + "/c")
        }
        try original.dropLast(3).write(to: URL(fileURLWithPath: tokens))
        #expect(throws: PreparedCorpusError.self) { try PreparedCorpus(path: dir + "/c") }
        try original.write(to: URL(fileURLWithPath: tokens))
        try Self.write(originalInfo.replacingOccurrences(of: "\"version\":1", with: "\"version\":99"), to: info)
        #expect(throws: PreparedCorpusError.unsupportedVersion(path: dir + "/c", version: 99)) { try PreparedCorpus(path: dir + "/c") }
        try Self.write("{\"format\": 3", to: info)
        #expect(throws: PreparedCorpusError.corrupt(path: info, reason: "not a valid prepared-corpus description")) {
            try PreparedCorpus(path: dir + "/c")
        }
        try Self.write(originalInfo, to: info)
        #expect(try PreparedCorpus(path: dir + "/c").tokens.count == original.count)

        // Through the command line: each refusal is one line with its exit status.
        try FileManager.default.createDirectory(atPath: dir + "/texts", withIntermediateDirectories: true)
        _ = try writeSmallCorpus(in: dir + "/texts")
        expectCleanFailure(try CharNNBinary.run(["train", dir + "/texts", "--out", dir + "/run"] + tinyTrainArguments),
                           mentions: [dir + "/texts", "is a directory", "charnn prepare"], status: 66)
        try Data(flipped).write(to: URL(fileURLWithPath: tokens))
        expectCleanFailure(try CharNNBinary.run(["train", dir + "/c", "--out", dir + "/run"] + tinyTrainArguments),
                           mentions: [tokens, "checksum"], status: 65)
        expectCleanFailure(try CharNNBinary.run(["prepare", good, "--out", dir + "/c"]), mentions: ["already exists", "--force"], status: 1)
        expectCleanFailure(try CharNNBinary.run(["prepare", dir + "/nope.txt", "--out", dir + "/d"]), mentions: [dir + "/nope.txt"], status: 66)
        #expect(!FileManager.default.fileExists(atPath: dir + "/run/latest.safetensors"))
    }

    @Test("charnn prepare then charnn train DIR, with --json")
    func commandLine() throws {
        let dir = try temporaryDirectory("prepare-cli")
        let (arguments, concatenation) = try Self.inputs(in: dir)
        let prepared = try CharNNBinary.run(["prepare"] + arguments + ["--out", dir + "/p", "--json"])
        try #require(prepared.status == 0, "\(prepared.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(prepared.stdout.utf8)) as? [String: Any])
        #expect(object["token_width"] as? Int == 1 && object["files"] as? Int == 5)
        #expect(object["symbols"] as? Int == (try Tokenizer.build(text: concatenation).tokens.count))
        let trained = try CharNNBinary.run(["train", dir + "/p", "--out", dir + "/run", "--steps", "3"] + tinyTrainArguments)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("Done (reached the step budget)"), "\(trained.stdout)")
        expectCleanFailure(try CharNNBinary.run(["train", dir + "/p", "--out", dir + "/run2", "--unit", "scalar"] + tinyTrainArguments),
                           mentions: ["prepared with --unit grapheme"], status: 65)
    }
}

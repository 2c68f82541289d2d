import CharNN
import Foundation
import Testing

/// Rows "Corpus files" of docs/robustness.md: each bad corpus ends `charnn train` with one line
/// naming the file and the problem, and writes no run.
@Suite("Robustness: corpus files", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct CorpusRobustnessTests {
    /// A corpus made by `make` in a fresh directory; `charnn train` on it must fail cleanly.
    private func expectRefused(_ name: String, mentions: [String], status: Int32, make: (String) throws -> String) throws {
        let dir = try temporaryDirectory("corpus-\(name)")
        let corpus = try make(dir)
        let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--steps", "1"] + tinyTrainArguments)
        expectCleanFailure(result, mentions: [corpus] + mentions, status: status)
        #expect(!FileManager.default.fileExists(atPath: dir + "/run"), "a refused corpus must leave no run directory behind")
    }

    private func write(_ bytes: [UInt8], in dir: String, _ name: String = "corpus.txt") throws -> String {
        let path = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("missing, a directory, a device, or unreadable: exit 66 naming the file")
    func unreadable() throws {
        try expectRefused("missing", mentions: ["no such file"], status: 66) { $0 + "/nope.txt" }
        try expectRefused("directory", mentions: ["is a directory"], status: 66) { dir in
            try FileManager.default.createDirectory(atPath: dir + "/folder.txt", withIntermediateDirectories: true)
            return dir + "/folder.txt"
        }
        // A device would be read until memory runs out.
        try expectRefused("device", mentions: ["it is a device, not a text file"], status: 66) { _ in "/dev/zero" }
        // Permission bits do not stop root, so as root use a file whose read fails in the kernel.
        if getuid() == 0 {
            try expectRefused("unreadable", mentions: ["cannot read file"], status: 66) { _ in "/proc/self/mem" }
        } else {
            try expectRefused("unreadable", mentions: ["cannot read file", "permission denied"], status: 66) { dir in
                let path = try write(Array("some text\n".utf8), in: dir)
                chmod(path, 0)
                return path
            }
        }
    }

    @Test("empty, whitespace-only, or smaller than one batch: exit 65 saying why")
    func nothingToLearn() throws {
        try expectRefused("empty", mentions: ["holds no text"], status: 65) { try write([], in: $0) }
        try expectRefused("bom", mentions: ["holds no text"], status: 65) { try write([0xEF, 0xBB, 0xBF], in: $0) }
        try expectRefused("whitespace", mentions: ["only whitespace"], status: 65) { try write(Array(" \n\t \r\n  \n".utf8), in: $0) }
        try expectRefused("small", mentions: ["too few for one batch", "--batch"], status: 65) {
            try write(Array("just a few words of text\n".utf8), in: $0)
        }
    }

    @Test("binary files (ELF, PNG, gzip, UTF-16) are named as such: exit 65")
    func binaryFiles() throws {
        try expectRefused("elf", mentions: ["not a UTF-8 text file", "ELF"], status: 65) { dir in
            let copy = dir + "/program"
            try FileManager.default.copyItem(atPath: CharNNBinary.url.path, toPath: copy)
            return copy
        }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        try expectRefused("png", mentions: ["PNG image"], status: 65) { try write(png + [UInt8](repeating: 0x41, count: 500), in: $0, "picture.png") }
        try expectRefused("gzip", mentions: ["gzip"], status: 65) { try write([0x1F, 0x8B, 8, 0] + [UInt8](repeating: 0x61, count: 500), in: $0) }
        let utf16: [UInt8] = [0xFF, 0xFE] + "hello world, ".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        try expectRefused("utf16", mentions: ["UTF-16", "iconv"], status: 65) { try write(utf16, in: $0) }
    }

    @Test("NUL bytes are refused with their offset and line: exit 65")
    func nulBytes() throws {
        var text = Array(String(repeating: "line of text\n", count: 30).utf8)
        text[13 * 4 + 2] = 0  // line 5
        try expectRefused("nul", mentions: ["NUL byte at byte offset 54 (line 5)"], status: 65) { try write(text, in: $0) }
    }

    @Test("invalid UTF-8 at the start, middle and end: exit 65 with offset, line and --replace-invalid",
          arguments: [("start", 0), ("middle", 200), ("end", 389)])
    func invalidUTF8(place: String, offset: Int) throws {
        var text = Array(String(repeating: "valid text\n", count: 36).utf8)  // 396 bytes
        text.insert(0xC3, at: offset)
        text.insert(0x28, at: offset + 1)  // C3 28: a lead byte without its continuation
        let line = text[..<offset].filter { $0 == 0x0A }.count + 1
        try expectRefused("utf8-\(place)", mentions: ["invalid UTF-8 at byte offset \(offset) (line \(line))", "--replace-invalid"],
                          status: 65) { try write(text, in: $0) }
    }

    @Test("a single 50 MB line trains like any other text")
    func hugeLine() throws {
        let dir = try temporaryDirectory("corpus-line")
        // Mixed scripts and no newline at all, so the reader must cut chunks inside the line.
        let unit = Array("the cat sat on the mat; der Hund schläft; 春眠不觉晓 ".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(50 << 20)
        while bytes.count < 50 << 20 { bytes += unit }
        let corpus = dir + "/line.txt"
        try Data(bytes).write(to: URL(fileURLWithPath: corpus))
        let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--steps", "2", "--val-frac", "0"] + tinyTrainArguments)
        #expect(result.status == 0, "\(result.stderr)")
        let checkpoint = try Checkpoint.load(from: dir + "/run/latest.safetensors")
        #expect(checkpoint.training?.step == 2)
        #expect(checkpoint.training?.corpus.symbolCount ?? 0 > 40_000_000)
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("the same checks guard eval, vocab and --prime-file")
    func otherCommands() throws {
        let dir = try temporaryDirectory("corpus-other")
        let binary = dir + "/data.bin"
        try Data([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]).write(to: URL(fileURLWithPath: binary))
        _ = try trainTinyRun(in: dir, steps: 2)
        let checkpoint = dir + "/run/latest.safetensors"
        expectCleanFailure(try CharNNBinary.run(["eval", binary, "--checkpoint", checkpoint]), mentions: [binary, "ELF"], status: 65)
        expectCleanFailure(try CharNNBinary.run(["vocab", binary]), mentions: [binary, "ELF"], status: 65)
        expectCleanFailure(try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--prime-file", binary]), mentions: [binary, "ELF"],
                           status: 65)
        expectCleanFailure(try CharNNBinary.run(["sample", "--checkpoint", checkpoint, "--prime-file", dir + "/none.txt"]),
                           mentions: [dir + "/none.txt", "no such file"], status: 66)
        expectCleanFailure(try CharNNBinary.run(["eval", dir + "/none.txt", "--checkpoint", checkpoint]),
                           mentions: [dir + "/none.txt", "no such file"], status: 66)
    }
}

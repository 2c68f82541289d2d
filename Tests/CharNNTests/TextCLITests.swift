import Foundation
import Testing

/// Runs the built `charnn` executable as a child process. `swift test` builds every product,
/// so the binary sits beside the test bundle (`.build/<triple>/debug/`).
enum CharNNBinary {
    static var url: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // On Linux the test runner is `<dir>/charnnPackageTests.xctest`; on macOS it would be
        // a bundle a few levels deeper.
        while dir.path != "/" && !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("charnn").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("charnn")
    }

    /// `environment` adds to (or replaces in) the test process's own environment.
    static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:])
        throws -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting, so a large output cannot fill the pipe and block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

@Suite("Text: charnn vocab", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct TextCLITests {
    private func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("charnn-text-\(UUID().uuidString).txt")
        try Data(bytes).write(to: url)
        return url
    }

    @Test("the binary is built beside the tests")
    func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: CharNNBinary.url.path), "\(CharNNBinary.url.path)")
    }

    @Test("invalid UTF-8: one line on stderr, exit status 65, nothing on stdout")
    func invalidUTF8() throws {
        let file = try temporaryFile(Array("line one\nline two \u{E9}".utf8) + [0xC3, 0x28] + Array("\n".utf8))
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CharNNBinary.run(["vocab", file.path])
        #expect(r.status == 65)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "charnn: error: \(file.path): invalid UTF-8 at byte offset 20 (line 2); "
            + "pass --replace-invalid to substitute U+FFFD\n")
    }

    @Test("--replace-invalid substitutes, reports the count, and --json lists the symbols")
    func replaceInvalidJSON() throws {
        let file = try temporaryFile([0xEF, 0xBB, 0xBF] + Array("aa\r\n".utf8) + [0xFF, 0xFE])
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CharNNBinary.run(["vocab", "--replace-invalid", "--json", file.path])
        #expect(r.status == 0)
        #expect(r.stderr == "charnn: note: \(file.path): replaced 2 invalid UTF-8 sequences with U+FFFD\n")
        #expect(r.stdout == #"{"characters":5,"normalization":"nfc","size":3,"symbols":["#
            + #"{"count":2,"symbol":"a"},{"count":2,"symbol":"�"},{"count":1,"symbol":"\r\n"}],"unit":"grapheme"}"# + "\n")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(object?["size"] as? Int == 3)
    }

    @Test("missing file and bad --min-count fail with a message naming them", arguments: [
        (["vocab", "/nonexistent/corpus.txt"], Int32(66), "/nonexistent/corpus.txt: no such file"),
        (["vocab", "--min-count", "0", "/dev/null"], Int32(64), "--min-count must be at least 1 (got 0)"),
        (["vocab", "--min-count", "-2", "/dev/null"], Int32(64), "--min-count must be at least 1 (got -2)"),
    ])
    func failures(_ arguments: [String], _ status: Int32, _ message: String) throws {
        let r = try CharNNBinary.run(arguments)
        #expect(r.status == status)
        #expect(r.stderr.contains(message))
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"))
    }

    @Test("table output escapes invisible symbols and marks the unknown symbol")
    func table() throws {
        let file = try temporaryFile(Array("a a\tb\r\n\u{200D}a".utf8))
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CharNNBinary.run(["vocab", "--unit", "scalar", file.path])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "# \(file.path): 7 symbols, 9 scalars, normalization nfc")
        #expect(lines.count == 9)
        #expect(lines[2].hasSuffix(#"3    33.33  "a""#))
        for shown in [#"" ""#, #""\t""#, #""\r""#, #""\n""#, #""\u{200D}""#, #""b""#] {
            #expect(lines.contains { $0.hasSuffix("11.11  " + shown) }, "\(shown) in \(lines)")
        }
        let merged = try CharNNBinary.run(["vocab", "--min-count", "2", file.path])
        #expect(merged.stdout.split(separator: "\n").last?.hasSuffix(
            #"5    62.50  "�"  (unknown: symbols seen fewer than 2 times)"#) == true, "\(merged.stdout)")
    }
}

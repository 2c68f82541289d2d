import CharNN
import Foundation
import Testing

/// scripts/install and scripts/uninstall, run on the debug build `swift test` has just made (a
/// release build would take minutes; the installed files do not depend on the configuration).
@Suite("Install", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct InstallTests {
    static let scripts = VersionTests.repositoryRoot.appendingPathComponent("scripts")

    /// What scripts/install puts under the prefix, besides its manifest.
    static let installed = [
        "bin/charnn",
        "share/man/man1/charnn.1",
        "share/bash-completion/completions/charnn",
        "share/zsh/site-functions/_charnn",
        "share/fish/vendor_completions.d/charnn.fish",
        "share/charnn/shakespeare.safetensors",
    ]

    /// Runs `executable` in `directory` with this process's environment minus CHARNN_DATA_DIR, so
    /// the pretrained model can only be found where the install put it.
    static func run(_ executable: String, _ arguments: [String], in directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "CHARNN_DATA_DIR" }
        // Output goes to files, not pipes: the scripts pass on swift build's output, and a full
        // pipe nobody reads yet would block the child.
        let capture = try temporaryDirectory("capture")
        defer { try? FileManager.default.removeItem(atPath: capture) }
        let outPath = capture + "/stdout", errPath = capture + "/stderr"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus,
                try String(contentsOfFile: outPath, encoding: .utf8), try String(contentsOfFile: errPath, encoding: .utf8))
    }

    @Test("install into a prefix, sample from another directory, uninstall removes everything it installed", .timeLimit(.minutes(2)))
    func installSampleUninstall() throws {
        let work = try temporaryDirectory("install")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let prefix = work + "/prefix"
        let buildPath = CharNNBinary.url.deletingLastPathComponent().path
        let install = try Self.run(Self.scripts.appendingPathComponent("install").path,
                                   ["--prefix", prefix, "--build-path", buildPath], in: work)
        try #require(install.status == 0, "\(install.stderr)")
        for file in Self.installed {
            let attributes = try? FileManager.default.attributesOfItem(atPath: prefix + "/" + file)
            #expect((attributes?[.size] as? Int ?? 0) > 0, "\(file) missing or empty")
        }
        let manual = try String(contentsOfFile: prefix + "/share/man/man1/charnn.1", encoding: .utf8)
        #expect(manual.contains(".Dt CHARNN 1") && manual.contains("sample"))
        let bash = try String(contentsOfFile: prefix + "/share/bash-completion/completions/charnn", encoding: .utf8)
        #expect(bash.contains("complete") && bash.contains("--temperature"))

        // From a directory with no checkpoints/ and outside the clone, the installed binary finds
        // the model in PREFIX/share/charnn.
        let elsewhere = work + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let sample = try Self.run(prefix + "/bin/charnn", ["sample", "--temperature", "0.8", "--length", "50", "--seed", "1"], in: elsewhere)
        #expect(sample.status == 0, "\(sample.stderr)")
        #expect(sample.stdout.count >= 50, "\(sample.stdout)")  // 50 symbols and a newline
        #expect(sample.stderr.contains(prefix + "/share/charnn/shakespeare.safetensors"), "\(sample.stderr)")

        // A page someone else put beside ours after the install must survive the uninstall.
        try FileManager.default.createDirectory(atPath: prefix + "/share/man/man5", withIntermediateDirectories: true)
        try Data("other".utf8).write(to: URL(fileURLWithPath: prefix + "/share/man/man5/other.5"))
        let uninstall = try Self.run(Self.scripts.appendingPathComponent("uninstall").path, ["--prefix", prefix], in: work)
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        // The prefix did not exist before the install, so only the other page and its folders remain.
        let left = try FileManager.default.subpathsOfDirectory(atPath: prefix).sorted()
        #expect(left == ["share", "share/man", "share/man/man5", "share/man/man5/other.5"], "\(left)")
    }

    @Test("bad arguments: one line naming the option, non-zero exit", arguments: [
        ("install", ["--prefix"], "install: --prefix needs a directory"),
        ("install", ["--build-path", "/nonexistent"], "install: --build-path /nonexistent has no charnn executable"),
        ("install", ["--prefix", "/dev/null"], "install: --prefix /dev/null is not a directory"),
        ("install", ["--jobs", "2"], "install: unknown argument '--jobs'"),
        ("uninstall", ["--prefix", "/nonexistent"], "uninstall: --prefix /nonexistent: nothing installed there by scripts/install"),
    ])
    func badArguments(_ script: String, _ arguments: [String], _ message: String) throws {
        let r = try Self.run(Self.scripts.appendingPathComponent(script).path, arguments, in: FileManager.default.temporaryDirectory.path)
        #expect(r.status != 0)
        #expect(r.stderr.hasPrefix(message) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test("CHARNN_DATA_DIR names the directory holding the pretrained model")
    func dataDirectory() throws {
        let data = try temporaryDirectory("data")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let model = data + "/shakespeare.safetensors"
        // Without the file there, the variable is passed over.
        #expect(CheckpointDiscovery.pretrained(executable: "/nonexistent/bin/charnn", environment: ["CHARNN_DATA_DIR": data]) != model)
        try Data([1]).write(to: URL(fileURLWithPath: model))
        #expect(CheckpointDiscovery.pretrained(executable: "/nonexistent/bin/charnn", environment: ["CHARNN_DATA_DIR": data]) == model)
    }
}

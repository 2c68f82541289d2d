import CharNN
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The promise every row of docs/robustness.md makes: one line on standard error naming the
/// file or option and the problem, an exit status in 1...127, no crash report.
func expectCleanFailure(_ result: (status: Int32, stdout: String, stderr: String), mentions: [String],
                        status expected: Int32? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect((1...127).contains(result.status), "exit status \(result.status); stderr: \(result.stderr)", sourceLocation: sourceLocation)
    if let expected { #expect(result.status == expected, "stderr: \(result.stderr)", sourceLocation: sourceLocation) }
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.count == 1, "expected one line, got: \(result.stderr.debugDescription)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("charnn: error: "), "\(result.stderr)", sourceLocation: sourceLocation)
    for word in mentions {
        #expect(result.stderr.contains(word), "\(word.debugDescription) not in \(result.stderr.debugDescription)", sourceLocation: sourceLocation)
    }
    for trace in ["Fatal error", "Stack dump", "Backtrace", "Current stack trace", "Usage:"] {
        #expect(!result.stderr.contains(trace), "\(result.stderr)", sourceLocation: sourceLocation)
    }
}

/// A started `charnn` child whose output is collected on background threads, so the test can
/// signal it, or wait for a line, while it runs.
final class RunningCharNN: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let done = DispatchGroup()

    /// Starts `executable` (charnn by default; mpirun for a data-parallel job) in `directory`.
    init(_ arguments: [String], executable: URL = CharNNBinary.url, directory: String? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        // The child inherits this thread's signal mask, in which the test runner may block SIGINT
        // and SIGTERM: charnn unblocks them itself, but mpirun does not and would never see them.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
            done.enter()
            Thread.detachNewThread { [self] in
                while true {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    lock.withLock { if isOut { out += chunk } else { err += chunk } }
                }
                done.leave()
            }
        }
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

    /// Polls `condition` every 20 ms for up to `seconds`; returns whether it came true.
    @discardableResult
    func wait(seconds: Double = 60, for condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    /// As ``finish()``, but a process still running after `seconds` is killed (with its process
    /// group's members it started, for mpirun's ranks) and the test fails rather than hangs.
    func finish(within seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) -> (status: Int32, stdout: String, stderr: String) {
        if !wait(seconds: seconds, for: { !process.isRunning }) {
            Issue.record("still running after \(seconds) s; killed", sourceLocation: sourceLocation)
            killDescendants(of: pid)
            kill(pid, SIGKILL)
        }
        return finish()
    }

    /// SIGKILL to every process whose parent chain leads to `root`.
    private func killDescendants(of root: Int32) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == root {
                killDescendants(of: pid)
                kill(pid, SIGKILL)
            }
        }
    }

    /// Waits for the process to end and its output to be read.
    func finish() -> (status: Int32, stdout: String, stderr: String) {
        process.waitUntilExit()
        done.wait()
        return (process.terminationStatus, stdout, stderr)
    }
}

/// The model options the CLI robustness tests train with: tiny, one thread.
let tinyTrainArguments = ["--layers", "1", "--hidden", "16", "--embedding", "8", "--batch", "4", "--seq", "8", "--threads", "1"]

/// A small trained run in `dir/run`, from `charnn train`; returns the corpus path.
func trainTinyRun(in dir: String, steps: Int = 4, extra: [String] = []) throws -> String {
    let corpus = try writeSmallCorpus(in: dir)
    let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--steps", String(steps), "--save-every", "2",
                                       "--eval-every", "2"] + tinyTrainArguments + extra)
    try #require(result.status == 0, "\(result.stderr)")
    return corpus
}

/// The bytes of a file, or nil.
func fileBytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}

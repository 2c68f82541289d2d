import CharNN
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("charnn train: the command line", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct TrainCLITests {
    static let tiny = ["--layers", "1", "--hidden", "16", "--embedding", "8", "--batch", "4", "--seq", "8", "--threads", "1"]

    /// What `charnn train ARGUMENTS` did when sent `signal` `delay` seconds after its first line
    /// (printed before the first step). A run still going 60 s after the signal is killed.
    struct Interrupted {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Seconds from the signal to the exit.
        var waited: Double
    }

    static func interruptedTrain(_ arguments: [String], signal: Int32, after delay: Double) throws -> Interrupted {
        let process = Process()
        process.executableURL = CharNNBinary.url
        process.arguments = ["train"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        var buffer = Data()
        while !String(decoding: buffer, as: UTF8.self).contains("Training:") && Date() < deadline {
            buffer += out.fileHandleForReading.availableData
        }
        Thread.sleep(forTimeInterval: delay)
        let signalled = Date()
        kill(process.processIdentifier, signal)
        let watchdog = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: watchdog)
        buffer += out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        return Interrupted(status: process.terminationStatus, stdout: String(decoding: buffer, as: UTF8.self), stderr: stderr,
                           waited: Date().timeIntervalSince(signalled))
    }

    @Test("SIGINT and SIGTERM end the step, save latest.safetensors, print the resume command and exit 130 / 143",
          arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func interrupt(signal: Int32, status: Int32) throws {
        let dir = try temporaryDirectory("signal")
        let corpus = try writeSmallCorpus(in: dir)
        let run = try Self.interruptedTrain(
            [corpus, "--out", dir + "/run", "--time", "60s", "--eval-every", "1000000", "--save-every", "1000000"] + Self.tiny,
            signal: signal, after: 0.5)
        #expect(run.status == status, "stdout: \(run.stdout) stderr: \(run.stderr)")
        #expect(run.stdout.contains("--resume"), "\(run.stdout)")
        let checkpoint = try Checkpoint.load(from: dir + "/run/latest.safetensors")
        #expect((checkpoint.training?.step ?? 0) > 0)
    }

    @Test("Ctrl-C in the middle of a long validation pass abandons it: exit 130 within seconds, saved, no record of the pass")
    func interruptDuringValidation() throws {
        let dir = try temporaryDirectory("signal-validation")
        // 1.4 M symbols, half of them for validation, scored whole by a 512-unit model in chunks of
        // 4 × 8: a pass of minutes (a 256-unit model took 28 s in a debug build on 2 Zen 3 cores),
        // against steps of 32 symbols. Step 1 takes milliseconds; 1.5 s after the first line its
        // validation pass (--eval-every 1) is under way.
        let corpus = try writeSmallCorpus(in: dir, repeats: 30_000)
        let run = try Self.interruptedTrain(
            [corpus, "--out", dir + "/run", "--steps", "100", "--eval-every", "1", "--val-frac", "0.5", "--val-symbols", "10000000",
             "--layers", "1", "--hidden", "512", "--embedding", "8", "--batch", "4", "--seq", "8", "--threads", "1"],
            signal: SIGINT, after: 1.5)
        // Seconds, not the minutes the pass would take; the margin is wide for a loaded CI machine.
        #expect(run.waited < 30, "the pass was not abandoned: exit \(run.waited) s after SIGINT")
        #expect(run.status == 130, "stdout: \(run.stdout) stderr: \(run.stderr)")
        #expect(run.stdout.contains("--resume"), "\(run.stdout)")
        let checkpoint = try Checkpoint.load(from: dir + "/run/latest.safetensors")
        #expect(checkpoint.training?.step == 1)
        // The abandoned pass left no validation record, and no closing pass ran after the stop.
        let logPath = dir + "/run/log.jsonl"
        let records = FileManager.default.fileExists(atPath: logPath) ? try TrainingLog.read(url: URL(fileURLWithPath: logPath)) : []
        #expect(records.allSatisfy { $0.valLoss == nil }, "\(records)")
    }

    @Test("invalid values are rejected before any work, naming the option",
          arguments: [
            (["--batch", "0"], "--batch"), (["--hidden", "-3"], "--hidden"), (["--val-frac", "0.7"], "--val-frac"),
            (["--lr", "nan"], "--lr"), (["--time", "10x"], "--time"), (["--dropout", "1"], "--dropout"),
            (["--unit", "word"], "--unit"), (["--resume", "--force"], "--resume"), (["--clip", "0"], "--clip"),
          ])
    func invalidOptions(arguments: [String], option: String) throws {
        let dir = try temporaryDirectory("options")
        let corpus = try writeSmallCorpus(in: dir)
        let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/run"] + arguments)
        #expect(result.status != 0 && result.status < 128)
        #expect(result.stderr.contains(option), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/run"))
    }

    @Test("a missing corpus, a too-small corpus and an existing run each give one clear line")
    func clearErrors() throws {
        let dir = try temporaryDirectory("errors")
        let missing = try CharNNBinary.run(["train", dir + "/nope.txt", "--out", dir + "/new/parents/run"])
        #expect(missing.status != 0 && missing.stderr.contains("nope.txt"))
        #expect(missing.stderr.split(separator: "\n").count == 1)
        // Nothing left behind: not the run directory, nor the parents made for it.
        #expect(!FileManager.default.fileExists(atPath: dir + "/new"))

        let small = dir + "/small.txt"
        try "tiny text".write(toFile: small, atomically: true, encoding: .utf8)
        let tooSmall = try CharNNBinary.run(["train", small, "--out", dir + "/small-run"])
        #expect(tooSmall.status != 0 && tooSmall.stderr.contains("--batch"), "\(tooSmall.stderr)")

        let corpus = try writeSmallCorpus(in: dir)
        let first = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--steps", "2"] + Self.tiny)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Done"))
        let again = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--steps", "2"] + Self.tiny)
        #expect(again.status != 0 && again.stderr.contains("--resume") && again.stderr.contains("--force"))
    }
}

@Suite("charnn export", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct ExportCLITests {
    @Test("--weights-only drops the optimizer and training state and still loads")
    func weightsOnly() throws {
        let dir = try temporaryDirectory("export")
        let corpus = try writeSmallCorpus(in: dir)
        let trained = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--steps", "2"] + TrainCLITests.tiny)
        try #require(trained.status == 0, "\(trained.stderr)")
        let exported = try CharNNBinary.run(["export", dir + "/run/latest.safetensors", dir + "/small.safetensors", "--weights-only"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let full = try Checkpoint.load(from: dir + "/run/latest.safetensors")
        let small = try Checkpoint.load(from: dir + "/small.safetensors")
        #expect(small.model == full.model && small.tokenizer == full.tokenizer)
        #expect(small.optimizer == nil && small.training == nil)
        let sizes = try [dir + "/run/latest.safetensors", dir + "/small.safetensors"].map {
            try #require(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int)
        }
        #expect(sizes[1] * 2 < sizes[0])
        let missing = try CharNNBinary.run(["export", dir + "/nope.safetensors", dir + "/x.safetensors"])
        #expect(missing.status == 66 && missing.stderr.contains("nope.safetensors"))
    }
}

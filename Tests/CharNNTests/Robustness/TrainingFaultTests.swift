import CharNN
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Rows "Faults during training" of docs/robustness.md: a full disk, SIGKILL while saving, a
/// non-finite loss and the run directory deleted mid-run. Each ends in one line, a status in
/// 1...127, and the last good checkpoint intact and loadable.
@Suite("Robustness: faults during training", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct TrainingFaultTests {
    @Test("a full disk while saving: exit 74, the previous checkpoints intact, no temporary left")
    func diskFull() throws {
        let dir = try temporaryDirectory("disk-full")
        let corpus = try trainTinyRun(in: dir, steps: 4)
        let latest = dir + "/run/latest.safetensors", best = dir + "/run/best.safetensors"
        let before = (try #require(fileBytes(latest)), try #require(fileBytes(best)))
        #expect(before.0.count > 20 << 10)
        // RLIMIT_FSIZE of 20 KiB, set in a shell that then becomes charnn: the small log and plot
        // fit, a checkpoint does not. SIGXFSZ is ignored so write(2) fails with EFBIG instead.
        let command = ["train", corpus, "--out", dir + "/run", "--resume", "--steps", "8", "--save-every", "2", "--eval-every", "2"]
            + tinyTrainArguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f 20; exec \"$0\" \"$@\"", CharNNBinary.url.path] + command
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        expectCleanFailure((process.terminationStatus, "", stderr), mentions: ["cannot write", "File too large", "is intact", "--resume"], status: 74)
        #expect(stderr.contains("(step 4)"), "\(stderr)")
        #expect(fileBytes(latest) == before.0 && fileBytes(best) == before.1)
        #expect(try Checkpoint.load(from: latest).training?.step == 4)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/run").filter { $0.contains(".tmp-") || $0 == RunLock.fileName }
        #expect(leftovers.isEmpty, "\(leftovers)")
        // With space again, the run continues from where it was.
        let resumed = try CharNNBinary.run(command)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Checkpoint.load(from: latest).training?.step == 8)
    }

    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    /// Polls every 20 ms for up to `seconds`, suspended rather than blocked in between: the test
    /// runner has a thread per core, and a blocking wait this long starved other tests past their
    /// time limits.
    static func poll(seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// Runs `charnn` to its end without blocking a runner thread (see ``poll(seconds:_:)``).
    static func runToEnd(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try RunningCharNN(arguments)
        _ = await poll(seconds: 180) { !child.process.isRunning }
        if child.process.isRunning { kill(child.pid, SIGKILL) }
        return child.finish()
    }

    /// The CI-sized scripts/soak-resume.sh: SIGKILL at random moments until at least three kills
    /// have landed during a checkpoint save (a temporary the killed process left shows it), each
    /// followed by --resume; the finished run must equal an uninterrupted one to the bit.
    @Test("SIGKILL at random moments, three or more during a save: every checkpoint loads, and resume ends bit-identical",
          .timeLimit(.minutes(4)))
    func killWhileSaving() async throws {
        let dir = try temporaryDirectory("kill")
        let corpus = try writeSmallCorpus(in: dir)
        let run = dir + "/run", latest = run + "/latest.safetensors"
        // --save-every 1: a save (write, fsync, rename, fsync) is in flight most of the time. The
        // same --steps in every session, so each resumes the same cosine plan.
        let arguments = ["--steps", "200", "--save-every", "1", "--eval-every", "5", "--quiet"] + tinyTrainArguments
        let reference = try await Self.runToEnd(["train", corpus, "--out", dir + "/reference"] + arguments)
        try #require(reference.status == 0, "\(reference.stderr)")
        var rng = RandomGenerator(seed: 5)
        var kills = 0, killedMidSave = 0, finishedEarly = 0
        let deadline = Date().addingTimeInterval(120)
        while killedMidSave < 3 || kills < 6 {
            try #require(Date() < deadline, "only \(killedMidSave) of \(kills) kills landed during a save in two minutes")
            let mode = FileManager.default.fileExists(atPath: latest) ? "--resume" : "--force"
            // Each save renames a new file over latest: a new inode shows this session is
            // training and saving, past its start-up (where a kill would prove nothing).
            let before = Self.inode(latest)
            let child = try RunningCharNN(["train", corpus, "--out", run, mode] + arguments)
            let saving = await Self.poll(seconds: 30) { Self.inode(latest) != before || !child.process.isRunning }
            #expect(saving, "kill \(kills): \(child.stderr)")
            try await Task.sleep(for: .milliseconds(rng.next() % 100))
            kill(child.pid, SIGKILL)
            let result = child.finish()
            if result.status == 0 {
                // The session reached step 200 before the kill: start the run over, keeping count.
                finishedEarly += 1
                try FileManager.default.removeItem(atPath: run)
                continue
            }
            #expect(result.status == SIGKILL, "kill \(kills): \(result.stderr)")  // Foundation reports the signal
            kills += 1
            let names = try FileManager.default.contentsOfDirectory(atPath: run)
            if names.contains(where: { $0.hasSuffix(".safetensors.tmp-\(child.pid)") }) { killedMidSave += 1 }
            for file in ["latest", "best"] where FileManager.default.fileExists(atPath: run + "/\(file).safetensors") {
                #expect(throws: Never.self, "kill \(kills)") { try Checkpoint.load(from: run + "/\(file).safetensors") }
            }
        }
        print("\(kills) kills, \(killedMidSave) during a save; \(finishedEarly) session(s) finished before their kill")
        // The next session removes what the killed ones left half-written, and finishes the run.
        let last = try await Self.runToEnd(["train", corpus, "--out", run, "--resume"] + arguments)
        #expect(last.status == 0, "\(last.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: run).allSatisfy { !$0.contains(".tmp-") })
        let a = try Checkpoint.load(from: dir + "/reference/latest.safetensors"), b = try Checkpoint.load(from: latest)
        #expect(b.training?.step == 200)
        #expect(a.model.parameters.values == b.model.parameters.values && a.optimizer == b.optimizer)
        #expect(a.training?.cursor == b.training?.cursor && a.training?.rng == b.training?.rng && a.carriedState == b.carriedState)
        let bestA = try Checkpoint.load(from: dir + "/reference/best.safetensors"), bestB = try Checkpoint.load(from: run + "/best.safetensors")
        #expect(bestA.model.parameters.values == bestB.model.parameters.values && bestA.training?.step == bestB.training?.step)
    }

    @Test("a non-finite loss stops the run in one line and keeps the last good checkpoint")
    func nonFiniteLoss() throws {
        let dir = try temporaryDirectory("nan")
        let corpus = try trainTinyRun(in: dir, steps: 2)
        let latest = dir + "/run/latest.safetensors"
        // Weights at the edge of Float's range: finite on disk, but the first forward pass overflows.
        var checkpoint = try Checkpoint.load(from: latest)
        let count = try #require(checkpoint.model.parameters.tensor("head.weight")).count
        try checkpoint.model.parameters.setTensor("head.weight", [Float](repeating: .greatestFiniteMagnitude, count: count))
        try checkpoint.write(to: latest)
        let before = try #require(fileBytes(latest))
        let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--resume", "--steps", "6"] + tinyTrainArguments)
        expectCleanFailure(result, mentions: ["became non-finite at step 3", "last good checkpoint is kept", "--lr"], status: 1)
        #expect(fileBytes(latest) == before)
    }

    @Test("the run directory deleted mid-run: recreated, the model saved there, exit 74")
    func directoryDeleted() throws {
        let dir = try temporaryDirectory("vanish")
        let corpus = try writeSmallCorpus(in: dir)
        let run = dir + "/run"
        let child = try RunningCharNN(["train", corpus, "--out", run, "--steps", "100000", "--save-every", "3", "--eval-every", "4"]
            + tinyTrainArguments)
        #expect(child.wait { FileManager.default.fileExists(atPath: run + "/best.safetensors") })
        // The trainer keeps writing into the directory, so a recursive delete can race with a new
        // file. Moving the directory away takes it from its path in one step, as a delete does for
        // the trainer; the moved copy is removed afterwards.
        try FileManager.default.moveItem(atPath: run, toPath: dir + "/deleted-run")
        try? FileManager.default.removeItem(atPath: dir + "/deleted-run")
        var finished = false
        #expect(child.wait(seconds: 60) { finished = !child.process.isRunning; return finished })
        if !finished { kill(child.pid, SIGKILL) }
        let result = child.finish()
        expectCleanFailure(result, mentions: [run, "was deleted during training", "recreated it and saved step", "--resume"], status: 74)
        let saved = try Checkpoint.load(from: run + "/latest.safetensors")
        #expect((saved.training?.step ?? 0) > 0)
        #expect(!FileManager.default.fileExists(atPath: run + "/" + RunLock.fileName))
        let resumed = try CharNNBinary.run(["train", corpus, "--out", run, "--resume", "--steps", String(saved.training!.step + 2)]
            + tinyTrainArguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    @Test("a damaged log.jsonl on resume: readable records kept, the original saved beside it, a note")
    func damagedLog() throws {
        let dir = try temporaryDirectory("damaged-log")
        let corpus = try trainTinyRun(in: dir, steps: 6)
        let log = dir + "/run/log.jsonl"
        var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)  // steps 2, 4, 6
        lines[1] = "{\"step\": 4, garbage"
        let damaged = lines.joined(separator: "\n") + "\n"
        try damaged.write(toFile: log, atomically: true, encoding: .utf8)
        let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/run", "--resume", "--steps", "8", "--save-every", "2",
                                           "--eval-every", "2"] + tinyTrainArguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("note: \(log): line(s) 2 could not be read; kept the other records and saved the original as \(log).damaged"),
                "\(result.stderr)")
        #expect(try String(contentsOfFile: log + ".damaged", encoding: .utf8) == damaged)
        #expect(try TrainingLog.read(url: URL(fileURLWithPath: log)).map(\.step) == [2, 6, 8])
    }
}

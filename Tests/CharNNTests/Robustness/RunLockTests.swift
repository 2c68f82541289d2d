import CharNN
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 7, part 4: two `charnn train` processes on one run directory. The second refuses with
/// the holder's pid; a lock left by a killed process is detected as stale and taken over.
@Suite("Robustness: one run directory, one trainer", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct RunLockTests {
    @Test("a second charnn train on a busy run directory refuses in one line (exit 75) and changes nothing")
    func secondProcessRefused() throws {
        let dir = try temporaryDirectory("lock")
        let corpus = try writeSmallCorpus(in: dir)
        let run = dir + "/run"
        let first = try RunningCharNN(["train", corpus, "--out", run, "--steps", "100000", "--save-every", "5", "--eval-every", "5"]
            + tinyTrainArguments)
        #expect(first.wait { FileManager.default.fileExists(atPath: run + "/latest.safetensors") })
        let lockText = try String(contentsOfFile: run + "/" + RunLock.fileName, encoding: .utf8)
        #expect(lockText == "\(first.pid)\n")
        for mode in [["--resume"], ["--force"], []] {
            let second = try CharNNBinary.run(["train", corpus, "--out", run, "--steps", "3"] + mode + tinyTrainArguments)
            expectCleanFailure(second, mentions: [run, "in use by charnn process \(first.pid)", RunLock.fileName], status: 75)
        }
        // The first run never noticed: it stops cleanly on SIGINT and its checkpoint loads.
        #expect(first.process.isRunning)
        kill(first.pid, SIGINT)
        let result = first.finish()
        #expect(result.status == 130, "\(result.stderr)")
        #expect(try Checkpoint.load(from: run + "/latest.safetensors").training?.step ?? 0 > 0)
        #expect(!FileManager.default.fileExists(atPath: run + "/" + RunLock.fileName), "the lock is removed on exit")
    }

    @Test("a lock left by a killed process is stale: taken over with a note naming its pid")
    func staleLock() throws {
        let dir = try temporaryDirectory("stale")
        let corpus = try writeSmallCorpus(in: dir)
        let run = dir + "/run"
        let victim = try RunningCharNN(["train", corpus, "--out", run, "--steps", "100000", "--save-every", "5"] + tinyTrainArguments)
        #expect(victim.wait { FileManager.default.fileExists(atPath: run + "/latest.safetensors") })
        kill(victim.pid, SIGKILL)
        _ = victim.finish()
        #expect(FileManager.default.fileExists(atPath: run + "/" + RunLock.fileName), "SIGKILL leaves the lock file")
        let resumed = try CharNNBinary.run(["train", corpus, "--out", run, "--resume", "--steps", "100000", "--time", "1s"] + tinyTrainArguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("note: took over \(run)/\(RunLock.fileName), left by charnn process \(victim.pid) which is no longer running"),
                "\(resumed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run + "/" + RunLock.fileName))
    }

    @Test("in one process: the lock excludes, records the pid, and is free again once released")
    func library() throws {
        let dir = try temporaryDirectory("lock-lib")
        let lock = try RunLock.acquire(directory: dir)
        #expect(lock.staleHolder == nil && lock.isIntact)
        #expect(throws: RunError.runInUse(path: dir, pid: getpid())) { try RunLock.acquire(directory: dir) }
        #expect(throws: RunError.runInUse(path: dir, pid: getpid())) { try RunDirectory(path: dir).prepare(.force) }
        lock.release()
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + RunLock.fileName))
        // A stale file (nobody holds its flock) with a pid in it.
        try "4194303\n".write(toFile: dir + "/" + RunLock.fileName, atomically: true, encoding: .utf8)
        let again = try RunLock.acquire(directory: dir)
        #expect(again.staleHolder == 4_194_303)
        #expect(try String(contentsOfFile: dir + "/" + RunLock.fileName, encoding: .utf8) == "\(getpid())\n")
        // Deleting the directory is noticed.
        try FileManager.default.removeItem(atPath: dir)
        #expect(!again.isIntact)
    }

    @Test("a refused fresh run leaves no empty directory or lock behind")
    func refusedLeavesNothing() throws {
        let dir = try temporaryDirectory("lock-clean")
        let corpus = try writeSmallCorpus(in: dir)
        let result = try CharNNBinary.run(["train", corpus, "--out", dir + "/new", "--resume"] + tinyTrainArguments)
        expectCleanFailure(result, mentions: ["--resume", "no checkpoint to resume"], status: 66)
        #expect(!FileManager.default.fileExists(atPath: dir + "/new"))
    }
}

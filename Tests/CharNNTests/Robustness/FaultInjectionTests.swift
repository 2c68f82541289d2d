@_spi(Internals) import CharNN
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The full-disk row of docs/robustness.md without privileges: ENOSPC and EIO injected at every
/// write of a checkpoint save, and at its fsync, through AtomicFile's task-local seam. (The
/// tmpfs test needs permission to mount; the RLIMIT_FSIZE test fails only the first write.)
@Suite("Robustness: a failing write or fsync at every point of a save")
struct FaultInjectionTests {
    /// Two checkpoints of one run, a step apart, so their bytes differ.
    static func twoCheckpoints() throws -> (old: Checkpoint, new: Checkpoint) {
        let corpus = try Tokenizer.build(text: String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20))
        let data = TrainingData(tokenizer: corpus.tokenizer, tokens: corpus.tokens, validationFraction: 0.1, fileName: "t")
        let trainer = try Trainer(data: data, options: tinyTrainingOptions(steps: 2))
        try trainer.step()
        let old = trainer.checkpoint()
        try trainer.step()
        return (old, trainer.checkpoint())
    }

    /// Small enough that a save takes a dozen or more writes.
    static let bytesPerWrite = 2048

    @Test("short writes still save the whole file")
    func shortWrites() throws {
        let dir = try temporaryDirectory("short-writes")
        let (_, new) = try Self.twoCheckpoints()
        let path = dir + "/latest.safetensors"
        try AtomicFile.$injectedFaults.withValue(.init(bytesPerWrite: 7, error: 0)) { try new.write(to: path) }
        #expect(fileBytes(path) == new.serialized())
    }

    @Test("ENOSPC or EIO at the n-th write, for every n, and at fsync: the old file intact, no temporary, one line naming the path",
          arguments: [ENOSPC, EIO])
    func everyWrite(error: Int32) throws {
        let dir = try temporaryDirectory("inject")
        let (old, new) = try Self.twoCheckpoints()
        let path = dir + "/latest.safetensors"
        try old.write(to: path)
        let before = try #require(fileBytes(path))
        let newBytes = new.serialized()
        #expect(newBytes != before)
        let writes = (newBytes.count + Self.bytesPerWrite - 1) / Self.bytesPerWrite
        #expect(writes >= 10, "\(newBytes.count) bytes")
        let reason = String(cString: strerror(error))
        var faults = (1...writes).map { AtomicFile.InjectedFaults(bytesPerWrite: Self.bytesPerWrite, failingWrite: $0, error: error) }
        faults.append(.init(bytesPerWrite: Self.bytesPerWrite, failFsync: true, error: error))
        for fault in faults {
            let label = fault.failFsync ? "fsync" : "write \(fault.failingWrite!) of \(writes)"
            let thrown = #expect(throws: FileWriteError.self, "\(label)") {
                try AtomicFile.$injectedFaults.withValue(fault) { try new.write(to: path) }
            }
            #expect(thrown?.description == "\(path): cannot write: \(fault.failFsync ? "fsync" : "write") failed: \(reason)", "\(label)")
            #expect(fileBytes(path) == before, "\(label)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["latest.safetensors"], "\(label)")
        }
        // The same save without a fault goes through, so the faults above were what stopped it.
        try AtomicFile.$injectedFaults.withValue(.init(bytesPerWrite: Self.bytesPerWrite, error: 0)) { try new.write(to: path) }
        #expect(fileBytes(path) == newBytes)
    }

    @Test("a run whose save fails says in one line which checkpoint is intact, and leaves it so")
    func runSaveFails() throws {
        let dir = try temporaryDirectory("inject-run")
        let corpus = try writeSmallCorpus(in: dir)
        _ = try TrainingRunTests.train(corpus: corpus, out: dir + "/run", options: tinyTrainingOptions(steps: 3), mode: .fresh)
        let latest = dir + "/run/latest.safetensors"
        let before = try #require(fileBytes(latest))
        let fault = AtomicFile.InjectedFaults(bytesPerWrite: Self.bytesPerWrite, failingWrite: 3, error: EIO)
        let thrown = #expect(throws: RunError.self) {
            try AtomicFile.$injectedFaults.withValue(fault) {
                _ = try TrainingRunTests.train(corpus: corpus, out: dir + "/run", options: tinyTrainingOptions(steps: 6), mode: .resume)
            }
        }
        let message = thrown?.description ?? ""
        #expect(message.hasPrefix(dir + "/run/") && message.contains(".safetensors: cannot write: write failed: \(String(cString: strerror(EIO)))"),
                "\(message)")
        #expect(message.contains("(step 3) is intact") && !message.contains("\n"), "\(message)")
        #expect(fileBytes(latest) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/run").allSatisfy { !$0.contains(".tmp-") })
    }
}

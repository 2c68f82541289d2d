import CharNN
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The full-disk row with a real full disk: a 256 KiB tmpfs, where writes fail with ENOSPC (the
/// RLIMIT_FSIZE test in TrainingFaultTests covers the same path without privileges). Needs
/// permission to mount (root with CAP_SYS_ADMIN), which CI containers usually lack: it is skipped
/// there, and FaultInjectionTests covers ENOSPC at every write without privileges.
@Suite("Robustness: a really full disk (tmpfs)", .timeLimit(.minutes(5)))  // child processes and pipes: a hang must fail, not stall CI
struct FullDiskTests {
    /// A fresh directory with a tmpfs of `kilobytes` mounted on it, or nil when mounting is not allowed.
    static func smallDisk(kilobytes: Int) -> String? {
        guard getuid() == 0, let dir = try? temporaryDirectory("tmpfs") else { return nil }
        return mount("tmpfs", dir, "tmpfs", 0, "size=\(kilobytes)k") == 0 ? dir : nil
    }

    static let canMount: Bool = {
        guard let dir = smallDisk(kilobytes: 64) else { return false }
        umount(dir)
        return true
    }()

    @Test("ENOSPC while saving: exit 74, the previous checkpoints intact; with space again, --resume continues",
          .enabled(if: canMount, "needs permission to mount a tmpfs"))
    func noSpace() throws {
        let disk = try #require(Self.smallDisk(kilobytes: 256))
        defer { umount(disk) }
        let corpus = try writeSmallCorpus(in: disk)
        let run = disk + "/run"
        let arguments = ["train", corpus, "--out", run, "--save-every", "2", "--eval-every", "2"] + tinyTrainArguments
        let first = try CharNNBinary.run(arguments + ["--steps", "2"])
        try #require(first.status == 0, "\(first.stderr)")
        let before = (try #require(fileBytes(run + "/latest.safetensors")), try #require(fileBytes(run + "/best.safetensors")))
        // Fill the disk but for 8 KiB: enough for the log and the plot, not for a checkpoint.
        var info = statvfs()
        try #require(statvfs(disk, &info) == 0)
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        try #require(free > 16 << 10)
        let filler = disk + "/filler"
        try Data(count: free - (8 << 10)).write(to: URL(fileURLWithPath: filler))
        let full = try CharNNBinary.run(arguments + ["--resume", "--steps", "6"])
        expectCleanFailure(full, mentions: ["cannot write", "No space left on device", "(step 2) is intact", "--resume"], status: 74)
        #expect(fileBytes(run + "/latest.safetensors") == before.0 && fileBytes(run + "/best.safetensors") == before.1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: run).allSatisfy { !$0.contains(".tmp-") })
        try FileManager.default.removeItem(atPath: filler)
        let resumed = try CharNNBinary.run(arguments + ["--resume", "--steps", "6"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Checkpoint.load(from: run + "/latest.safetensors").training?.step == 6)
    }
}

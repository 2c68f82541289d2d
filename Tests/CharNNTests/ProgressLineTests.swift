import CharNN
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

@Suite("Progress line, loss smoothing, terminal width")
struct ProgressLineTests {
    static let snapshot = ProgressSnapshot(
        step: 1200, totalSteps: 5000, epoch: 1.37, trainLoss: 1.642, valLoss: 1.701,
        charsPerSecond: 38_200, elapsedSeconds: 192, etaSeconds: 607, learningRate: 2e-3)

    static let full = "step 1200/5000  24%  epoch 1.37  loss 1.642  val 1.701  38.2k chars/s  3:12 elapsed  ETA 10:07"

    @Test("terminal line on a wide terminal")
    func wide() {
        #expect(ProgressLine.terminal(Self.snapshot, width: 200) == Self.full)
        #expect(ProgressLine.terminal(Self.snapshot, width: Self.full.count) == Self.full)
    }

    @Test("narrow terminals drop the least important fields first", arguments: [
        (89, "step 1200/5000  24%  epoch 1.37  loss 1.642  val 1.701  38.2k chars/s  ETA 10:07"),
        (70, "step 1200/5000  24%  loss 1.642  val 1.701  38.2k chars/s  ETA 10:07"),
        (55, "step 1200/5000  24%  loss 1.642  val 1.701  ETA 10:07"),
        (48, "step 1200/5000  loss 1.642  val 1.701  ETA 10:07"),
        (47, "step 1200/5000  loss 1.642  ETA 10:07"),
        (30, "step 1200/5000  loss 1.642"),
        (20, "step 1200/5000"),
        (9, "step 1200"),
        (0, ""),
    ])
    func narrow(width: Int, expected: String) {
        #expect(ProgressLine.terminal(Self.snapshot, width: width) == expected)
    }

    @Test("the terminal line never exceeds the width and has no newline")
    func fits() {
        var s = Self.snapshot
        s.trainLoss = .nan
        s.etaSeconds = .infinity
        for width in 0...130 {
            for snap in [Self.snapshot, s] {
                let line = ProgressLine.terminal(snap, width: width)
                #expect(line.count <= width, "width \(width): \(line)")
                #expect(!line.contains("\n") && !line.contains("\r"))
            }
        }
    }

    @Test("unknown total: no fraction, no percent, no ETA")
    func unknownTotal() {
        var s = Self.snapshot
        s.totalSteps = nil
        s.etaSeconds = nil
        s.valLoss = nil
        #expect(ProgressLine.terminal(s, width: 200) == "step 1200  epoch 1.37  loss 1.642  38.2k chars/s  3:12 elapsed")
        #expect(ProgressLine.plain(s) == "step 1200 epoch 1.37 train_loss 1.6420 lr 2.00e-03 chars/s 38200 elapsed 192s")
    }

    @Test("plain line for logs")
    func plain() {
        #expect(ProgressLine.plain(Self.snapshot)
            == "step 1200/5000 epoch 1.37 train_loss 1.6420 val_loss 1.7010 lr 2.00e-03 chars/s 38200 elapsed 192s eta 607s")
    }

    @Test("ETA past an hour and an unknown ETA")
    func longETA() {
        var s = Self.snapshot
        s.etaSeconds = 3 * 3600 + 61
        #expect(ProgressLine.terminal(s, width: 200).hasSuffix("ETA 3:01:01"))
        s.etaSeconds = .nan
        #expect(ProgressLine.terminal(s, width: 200).hasSuffix("ETA --:--"))
        #expect(!ProgressLine.plain(s).contains("eta"))
    }

    @Test("compact rates", arguments: [
        (0.0, "0"), (950, "950"), (999.4, "999"), (999.6, "1.00k"), (1234, "1.23k"), (38_200, "38.2k"),
        (99_960, "100k"), (382_000, "382k"), (1_250_000, "1.25M"), (2.5e9, "2.50G"), (-1, "--"), (.nan, "--"),
    ])
    func rates(value: Double, expected: String) {
        #expect(ProgressLine.compactRate(value) == expected)
    }

    @Test("smoother: first value is the loss itself, then a bias-corrected EMA")
    func smoother() {
        var smoother = LossSmoother(beta: 0.9)
        #expect(smoother.value == nil)
        #expect(smoother.add(4.0) == 4.0)
        // m = 0.1·4 = 0.4 → 0.9·0.4 + 0.1·2 = 0.56; corrected by 1 − 0.81 = 0.19.
        let second = smoother.add(2.0)
        #expect(abs(second - 0.56 / 0.19) < 1e-12)
        #expect(smoother.value == second)
    }

    @Test("smoother: a constant loss stays constant from the first step (no pull toward 0)")
    func smootherConstant() {
        var smoother = LossSmoother()
        for _ in 0..<500 {
            #expect(abs(smoother.add(1.5) - 1.5) < 1e-9)
        }
    }

    @Test("smoother: non-finite losses are ignored")
    func smootherNonFinite() {
        var smoother = LossSmoother(beta: 0.5)
        #expect(smoother.add(.nan).isNaN)
        #expect(smoother.value == nil)
        #expect(smoother.add(3) == 3)
        #expect(smoother.add(.infinity) == 3)
        #expect(smoother.add(-.infinity) == 3)
        // Only the finite 3 and 1 count: m = 0.25·3... = 0.5·(0.5·3) + 0.5·1 = 1.25, / (1 − 0.25).
        #expect(abs(smoother.add(1) - 1.25 / 0.75) < 1e-12)
    }

    @Test("terminal width: nil for a pipe and a file")
    func notATerminal() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(terminalWidth(fileDescriptor: fds[1]) == nil)
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        #expect(terminalWidth(fileDescriptor: devNull) == nil)
        #expect(terminalWidth(fileDescriptor: -1) == nil)
    }

    @Test("terminal width: the column count of a pseudo-terminal",
          .enabled(if: FileManager.default.fileExists(atPath: "/dev/ptmx")))
    func pseudoTerminal() throws {
        // posix_openpt/unlockpt/ptsname sit behind feature macros the Glibc module does not
        // set, so do what they do: open /dev/ptmx, clear the lock (TIOCSPTLCK) and ask for the
        // pty number (TIOCGPTN). Both are _IOW/_IOR('T', …, int), the same on x86-64 and arm64.
        let TIOCSPTLCK: UInt = 0x4004_5431, TIOCGPTN: UInt = 0x8004_5430
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(master >= 0, "open /dev/ptmx failed: errno \(errno)")
        defer { close(master) }
        var unlock: Int32 = 0, number: UInt32 = 0
        #expect(withUnsafeMutablePointer(to: &unlock) { ioctl(master, TIOCSPTLCK, $0) } == 0)
        #expect(withUnsafeMutablePointer(to: &number) { ioctl(master, TIOCGPTN, $0) } == 0)
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        try #require(slave >= 0, "open /dev/pts/\(number) failed: errno \(errno)")
        defer { close(slave) }

        var size = winsize(ws_row: 40, ws_col: 97, ws_xpixel: 0, ws_ypixel: 0)
        #expect(withUnsafeMutablePointer(to: &size) { ioctl(master, UInt(TIOCSWINSZ), $0) } == 0)
        #expect(terminalWidth(fileDescriptor: slave) == 97)

        size.ws_col = 0
        #expect(withUnsafeMutablePointer(to: &size) { ioctl(master, UInt(TIOCSWINSZ), $0) } == 0)
        #expect(terminalWidth(fileDescriptor: slave) == nil)
    }
}

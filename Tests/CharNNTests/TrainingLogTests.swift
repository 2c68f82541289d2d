import CharNN
import Foundation
import Testing

@Suite("Training log (log.jsonl)")
struct TrainingLogTests {
    /// A fresh path in a directory of its own, removed by the caller's `defer`.
    static func scratchFile() throws -> (dir: URL, file: URL) {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("charnn-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return (dir, dir.appendingPathComponent("log.jsonl"))
    }

    static func record(_ step: Int, val: Double? = nil) -> EvaluationRecord {
        EvaluationRecord(
            step: step, epoch: Double(step) / 100, trainLoss: 2.5 - Double(step) / 1000, valLoss: val,
            learningRate: 2e-3, charsPerSecond: 38_200, elapsedSeconds: Double(step) * 0.5)
    }

    static func text(_ url: URL) throws -> String {
        String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    @Test("JSON keys are exactly the documented ones, sorted, one line")
    func keys() throws {
        let line = try EvaluationRecord(
            step: 1200, epoch: 1.37, trainLoss: 1.642, valLoss: 1.701, valStandardError: 0.012, valSymbols: 204_800,
            valSeconds: 4.25, learningRate: 0.002, charsPerSecond: 38200, elapsedSeconds: 192.5
        ).jsonLine()
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["step", "epoch", "train_loss", "val_loss", "val_bpc", "val_stderr", "val_symbols", "val_sec",
                                     "lr", "chars_per_sec", "elapsed_sec"])
        #expect(object["val_stderr"] as? Double == 0.012 && object["val_symbols"] as? Int == 204_800)
        #expect(object["val_sec"] as? Double == 4.25)
        #expect(object["step"] as? Int == 1200)
        #expect(object["train_loss"] as? Double == 1.642)
        #expect(object["lr"] as? Double == 0.002)
        #expect(object["elapsed_sec"] as? Double == 192.5)
        let bpc = try #require(object["val_bpc"] as? Double)
        #expect(abs(bpc - 1.701 / log(2.0)) < 1e-12)
        // Sorted keys: the order is stable from line to line.
        let order = ["chars_per_sec", "elapsed_sec", "epoch", "lr", "step", "train_loss", "val_bpc", "val_loss", "val_sec",
                     "val_stderr", "val_symbols"]
        let positions = order.map { line.range(of: "\"\($0)\"")!.lowerBound }
        #expect(positions == positions.sorted())
    }

    @Test("a log line from before the validation sample (no val_stderr, val_symbols, val_sec) still reads")
    func olderLine() throws {
        let line = #"{"chars_per_sec":38200,"elapsed_sec":1.5,"epoch":0.1,"lr":0.002,"step":50,"train_loss":2.5,"val_bpc":3.6,"val_loss":2.5}"#
        let record = try JSONDecoder().decode(EvaluationRecord.self, from: Data(line.utf8))
        #expect(record.step == 50 && record.valLoss == 2.5)
        #expect(record.valSymbols == nil && record.valStandardError == nil && record.valSeconds == nil)
        let full = EvaluationRecord(step: 2, epoch: 0, trainLoss: 1, valLoss: 1.5, valStandardError: 0.25, valSymbols: 9,
                                    valSeconds: 0.5, learningRate: 0.1, charsPerSecond: 3, elapsedSeconds: 4)
        #expect(try JSONDecoder().decode(EvaluationRecord.self, from: Data(full.jsonLine().utf8)) == full)
    }

    @Test("bits per character is nats / ln 2")
    func bpc() {
        #expect(EvaluationRecord.bitsPerCharacter(nats: log(2.0)) == 1)
        #expect(abs(EvaluationRecord.bitsPerCharacter(nats: 1.0) - 1.4426950408889634) < 1e-15)
        #expect(Self.record(1).valBPC == nil)
        let explicit = EvaluationRecord(step: 1, epoch: 0, trainLoss: 1, valLoss: 1, valBPC: 9, learningRate: 0,
                                        charsPerSecond: 0, elapsedSeconds: 0)
        #expect(explicit.valBPC == 9)
    }

    @Test("non-finite numbers become null and the line is still valid JSON")
    func nonFinite() throws {
        let record = EvaluationRecord(
            step: 7, epoch: 0.5, trainLoss: .nan, valLoss: .infinity, learningRate: 1e-3,
            charsPerSecond: -.infinity, elapsedSeconds: 3)
        let line = try record.jsonLine()
        #expect(!line.lowercased().contains("nan") && !line.lowercased().contains("inf"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["train_loss"] is NSNull)
        #expect(object["val_loss"] is NSNull)
        #expect(object["val_bpc"] is NSNull)
        #expect(object["chars_per_sec"] is NSNull)
        let back = try JSONDecoder().decode(EvaluationRecord.self, from: Data(line.utf8))
        #expect(back.trainLoss.isNaN && back.charsPerSecond.isNaN)
        #expect(back.valLoss == nil && back.valBPC == nil)
        #expect(object["val_symbols"] is NSNull && back.valSymbols == nil && back.valStandardError == nil)
        #expect(back.step == 7 && back.elapsedSeconds == 3)
    }

    @Test("append writes one line per record; read returns them in order")
    func appendAndRead() throws {
        let (dir, file) = try Self.scratchFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        var log = try TrainingLog(url: file, truncate: true)
        let records = [Self.record(100), Self.record(200, val: 1.9), Self.record(300)]
        for r in records { try log.append(r) }
        let text = try Self.text(file)
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count == 4)
        #expect(text.hasSuffix("}\n"))
        #expect(try TrainingLog.read(url: file) == records)
    }

    @Test("truncate: true starts over; false keeps the existing records")
    func truncateOrResume() throws {
        let (dir, file) = try Self.scratchFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        var first = try TrainingLog(url: file, truncate: true)
        try first.append(Self.record(1))
        try first.append(Self.record(2))
        var resumed = try TrainingLog(url: file, truncate: false)
        try resumed.append(Self.record(3))
        #expect(try TrainingLog.read(url: file).map(\.step) == [1, 2, 3])
        _ = try TrainingLog(url: file, truncate: true)
        #expect(try TrainingLog.read(url: file).isEmpty)
        #expect(try Self.text(file).isEmpty)
    }

    @Test("read skips a torn last line")
    func tornTail() throws {
        let (dir, file) = try Self.scratchFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        var log = try TrainingLog(url: file, truncate: true)
        try log.append(Self.record(1))
        try log.append(Self.record(2))
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"chars_per_sec":38200,"elapsed_sec":1.5,"ep"#.utf8))
        try handle.close()
        #expect(try TrainingLog.read(url: file).map(\.step) == [1, 2])
    }

    @Test("resuming after a crash cuts the torn line so the next record is readable")
    func resumeAfterTornTail() throws {
        let (dir, file) = try Self.scratchFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        var log = try TrainingLog(url: file, truncate: true)
        try log.append(Self.record(1))
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"chars_per_sec":382"#.utf8))
        try handle.close()
        var resumed = try TrainingLog(url: file, truncate: false)
        try resumed.append(Self.record(2))
        #expect(try TrainingLog.read(url: file).map(\.step) == [1, 2])
        #expect(!(try Self.text(file)).contains("382{"))
    }

    @Test("resuming keeps a complete last record that only lost its newline")
    func resumeAfterMissingNewline() throws {
        let (dir, file) = try Self.scratchFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data((try Self.record(1).jsonLine()).utf8).write(to: file)
        #expect(try TrainingLog.read(url: file).map(\.step) == [1])
        var resumed = try TrainingLog(url: file, truncate: false)
        try resumed.append(Self.record(2))
        #expect(try TrainingLog.read(url: file).map(\.step) == [1, 2])
    }

    @Test("a corrupt line in the middle is an error naming the line, not silently dropped")
    func corruptMiddle() throws {
        let (dir, file) = try Self.scratchFile()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Self.record(1).jsonLine()
        try Data("\(good)\n\nnot json\n\(good)\n".utf8).write(to: file)
        #expect(throws: TrainingLogError.malformedLine(path: file.path, line: 3)) {
            try TrainingLog.read(url: file)
        }
    }

    @Test("opening a log in a missing directory fails with the path and errno")
    func openFailure() {
        let file = URL(fileURLWithPath: "/nonexistent-charnn-dir/log.jsonl")
        #expect(throws: TrainingLogError.system(call: "open", path: file.path, errno: ENOENT)) {
            try TrainingLog(url: file, truncate: true)
        }
    }
}

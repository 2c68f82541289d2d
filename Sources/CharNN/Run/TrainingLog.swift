import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One evaluation during training: a line of `log.jsonl`.
///
/// JSON keys: `step`, `epoch`, `train_loss`, `val_loss`, `val_bpc`, `val_stderr`, `val_symbols`,
/// `val_sec`, `lr`, `chars_per_sec`, `elapsed_sec`. Every key is always written; a missing validation loss and any non-finite
/// number (a diverged loss is NaN) are written as `null`, since JSON has no NaN or infinity.
/// Reading `null` back gives `nil` for the optional fields and NaN for the others.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    /// Optimizer steps taken so far.
    public var step: Int
    /// Passes over the training text so far, fractional.
    public var epoch: Double
    /// Training loss in nats per character (smoothed or averaged since the last evaluation).
    public var trainLoss: Double
    /// Validation loss in nats per character, when a validation split exists.
    public var valLoss: Double?
    /// Validation loss in bits per character: `valLoss / ln 2`.
    public var valBPC: Double?
    /// The standard error of `valLoss` (from the spread between the validation segments scored).
    public var valStandardError: Double?
    /// Validation predictions scored: the run's sample of the split, or all of it.
    public var valSymbols: Int?
    /// Wall-clock seconds the validation pass took.
    public var valSeconds: Double?
    /// Learning rate at this step.
    public var learningRate: Double
    /// Training throughput in characters per second.
    public var charsPerSecond: Double
    /// Wall-clock seconds since training started, this record's validation pass included.
    public var elapsedSeconds: Double

    /// A record; `valBPC` defaults to `valLoss / ln 2` so the two cannot disagree by accident.
    public init(
        step: Int, epoch: Double, trainLoss: Double, valLoss: Double? = nil, valBPC: Double? = nil,
        valStandardError: Double? = nil, valSymbols: Int? = nil, valSeconds: Double? = nil,
        learningRate: Double, charsPerSecond: Double, elapsedSeconds: Double
    ) {
        self.valStandardError = valStandardError
        self.valSymbols = valSymbols
        self.valSeconds = valSeconds
        self.step = step
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.valLoss = valLoss
        self.valBPC = valBPC ?? valLoss.map(Self.bitsPerCharacter(nats:))
        self.learningRate = learningRate
        self.charsPerSecond = charsPerSecond
        self.elapsedSeconds = elapsedSeconds
    }

    /// Converts a loss in nats per character to bits per character.
    public static func bitsPerCharacter(nats: Double) -> Double {
        nats / 0.693_147_180_559_945_309_4
    }

    enum CodingKeys: String, CodingKey {
        case step, epoch
        case trainLoss = "train_loss"
        case valLoss = "val_loss"
        case valBPC = "val_bpc"
        case valStandardError = "val_stderr"
        case valSymbols = "val_symbols"
        case valSeconds = "val_sec"
        case learningRate = "lr"
        case charsPerSecond = "chars_per_sec"
        case elapsedSeconds = "elapsed_sec"
    }

    /// Reads one record from its JSON keys; `null` (or, in logs from before the validation sample,
    /// an absent `val_stderr`, `val_symbols` or `val_sec`) reads as nil for the optional fields and
    /// NaN for the others.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // `null` stands for a non-finite value (see encode(to:)), so it decodes as NaN.
        func number(_ key: CodingKeys) throws -> Double {
            try c.decodeIfPresent(Double.self, forKey: key) ?? .nan
        }
        step = try c.decode(Int.self, forKey: .step)
        epoch = try number(.epoch)
        trainLoss = try number(.trainLoss)
        valLoss = try c.decodeIfPresent(Double.self, forKey: .valLoss)
        valBPC = try c.decodeIfPresent(Double.self, forKey: .valBPC)
        valStandardError = try c.decodeIfPresent(Double.self, forKey: .valStandardError)
        valSymbols = try c.decodeIfPresent(Int.self, forKey: .valSymbols)
        valSeconds = try c.decodeIfPresent(Double.self, forKey: .valSeconds)
        learningRate = try number(.learningRate)
        charsPerSecond = try number(.charsPerSecond)
        elapsedSeconds = try number(.elapsedSeconds)
    }

    /// Writes every key, with `null` for a missing validation loss and any non-finite number.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // JSONEncoder throws on NaN/inf by default; a diverging run must still be logged.
        func put(_ value: Double?, _ key: CodingKeys) throws {
            if let value, value.isFinite {
                try c.encode(value, forKey: key)
            } else {
                try c.encodeNil(forKey: key)
            }
        }
        try c.encode(step, forKey: .step)
        try put(epoch, .epoch)
        try put(trainLoss, .trainLoss)
        try put(valLoss, .valLoss)
        try put(valBPC, .valBPC)
        try put(valStandardError, .valStandardError)
        if let valSymbols { try c.encode(valSymbols, forKey: .valSymbols) } else { try c.encodeNil(forKey: .valSymbols) }
        try put(valSeconds, .valSeconds)
        try put(learningRate, .learningRate)
        try put(charsPerSecond, .charsPerSecond)
        try put(elapsedSeconds, .elapsedSeconds)
    }

    /// The record as one line of JSON (no newline), keys sorted so lines are stable and diffable.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// Failures reading or writing `log.jsonl`.
public enum TrainingLogError: Error, CustomStringConvertible, Equatable {
    /// A system call failed (`open`, `write`, ...), with its `errno`.
    case system(call: String, path: String, errno: Int32)
    /// A complete line (not the torn last one) that is not a valid record.
    case malformedLine(path: String, line: Int)

    /// The one-line message, starting with the log's path.
    public var description: String {
        switch self {
        case let .system(call, path, code):
            return "\(path): \(call) failed: \(String(cString: strerror(code)))"
        case let .malformedLine(path, line):
            return "\(path):\(line): not a valid training log record"
        }
    }
}

/// The append-only `log.jsonl` of a training run: one ``EvaluationRecord`` per line.
///
/// Each `append` opens the file, writes the whole line in one `write`, `fsync`s and closes, so a
/// crash or power loss costs at most the line being written, and the file is never held open
/// between evaluations (nothing to leak, and `tail -f` or a plotting script always sees whole
/// lines). Evaluations are seconds apart, so the fsync cost does not matter.
public struct TrainingLog: Sendable {
    /// Where the log lives.
    public let url: URL

    /// Opens `url` for appending, creating it if needed.
    ///
    /// - Parameters:
    ///   - url: The log file, `log.jsonl` in the run directory.
    ///   - truncate: `true` starts an empty log (a fresh run); `false` keeps existing
    ///     records (a resumed run). When keeping, a torn last line left by a crash is removed, so
    ///     the next record does not get glued onto it.
    public init(url: URL, truncate: Bool) throws {
        self.url = url
        let path = url.path
        let fd = open(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : 0) | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TrainingLogError.system(call: "open", path: path, errno: errno) }
        close(fd)
        if !truncate { try Self.repairTail(path: path) }
    }

    /// Appends `record` as one line and flushes it to disk.
    public mutating func append(_ record: EvaluationRecord) throws {
        let path = url.path
        let bytes = Array((try record.jsonLine() + "\n").utf8)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TrainingLogError.system(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        try Self.writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw TrainingLogError.system(call: "fsync", path: path, errno: errno) }
    }

    /// All records in the log at `url`, in order.
    ///
    /// A last line without its newline that does not parse is the remains of a crash mid-write
    /// and is skipped; any other bad line throws ``TrainingLogError/malformedLine(path:line:)``.
    /// Blank lines are ignored.
    public static func read(url: URL) throws -> [EvaluationRecord] {
        let data = try Data(contentsOf: url)
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let endsWithNewline = data.last == UInt8(ascii: "\n")
        let decoder = JSONDecoder()
        var records: [EvaluationRecord] = []
        for (index, line) in lines.enumerated() {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            do {
                records.append(try decoder.decode(EvaluationRecord.self, from: Data(line)))
            } catch {
                let isTornTail = index == lines.count - 1 && !endsWithNewline
                if isTornTail { break }
                throw TrainingLogError.malformedLine(path: url.path, line: index + 1)
            }
        }
        return records
    }

    /// The records of every line of the log at `url` that parses, and the 1-based numbers of
    /// the lines that do not (blank lines and a torn last line are not counted as damage). For a
    /// log that ``read(url:)`` refuses: a resumed run keeps what it can rather than nothing.
    public static func readSkippingDamage(url: URL) -> (records: [EvaluationRecord], damagedLines: [Int]) {
        guard let data = try? Data(contentsOf: url) else { return ([], []) }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let decoder = JSONDecoder()
        var records: [EvaluationRecord] = []
        var damaged: [Int] = []
        for (index, line) in lines.enumerated() {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            if let record = try? decoder.decode(EvaluationRecord.self, from: Data(line)) {
                records.append(record)
            } else if !(index == lines.count - 1 && data.last != UInt8(ascii: "\n")) {
                damaged.append(index + 1)
            }
        }
        return (records, damaged)
    }

    /// Makes the file end on a line boundary: a complete record missing only its newline gets
    /// one; an unparseable partial line is cut off.
    static func repairTail(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last,
              last != UInt8(ascii: "\n")
        else { return }
        let tailStart = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? data.startIndex
        let tail = data[tailStart...]
        if (try? JSONDecoder().decode(EvaluationRecord.self, from: Data(tail))) != nil {
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard fd >= 0 else { throw TrainingLogError.system(call: "open", path: path, errno: errno) }
            defer { close(fd) }
            try writeAll(fd, [UInt8(ascii: "\n")], path: path)
        } else {
            guard Glibc.truncate(path, off_t(tailStart - data.startIndex)) == 0 else {
                throw TrainingLogError.system(call: "truncate", path: path, errno: errno)
            }
        }
    }

    /// `write` until every byte is out: a single call may write less, or be interrupted.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TrainingLogError.system(call: "write", path: path, errno: errno)
            }
            offset += n
        }
    }
}

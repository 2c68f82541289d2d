import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the progress line shows at one moment of training.
public struct ProgressSnapshot: Sendable {
    /// Optimizer steps taken so far.
    public var step: Int
    /// The planned number of steps, when known (not for a pure `--time` budget).
    public var totalSteps: Int?
    /// Passes over the training text so far, fractional.
    public var epoch: Double
    /// The smoothed training loss in nats per character (see `LossSmoother`).
    public var trainLoss: Double
    /// The latest validation loss in nats per character.
    public var valLoss: Double?
    /// The standard error of ``valLoss``, when known.
    public var valStandardError: Double?
    /// Training throughput.
    public var charsPerSecond: Double
    /// Wall-clock seconds since training started.
    public var elapsedSeconds: Double
    /// Estimated seconds until training ends, when known.
    public var etaSeconds: Double?
    /// The current learning rate.
    public var learningRate: Double

    /// A snapshot from its fields; the optional ones default to nil (unknown).
    public init(
        step: Int, totalSteps: Int? = nil, epoch: Double, trainLoss: Double, valLoss: Double? = nil,
        valStandardError: Double? = nil, charsPerSecond: Double, elapsedSeconds: Double, etaSeconds: Double? = nil, learningRate: Double
    ) {
        self.step = step
        self.totalSteps = totalSteps
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.valLoss = valLoss
        self.valStandardError = valStandardError
        self.charsPerSecond = charsPerSecond
        self.elapsedSeconds = elapsedSeconds
        self.etaSeconds = etaSeconds
        self.learningRate = learningRate
    }
}

/// Renders a ``ProgressSnapshot`` for a live terminal or for a log file.
package enum ProgressLine {
    /// The line redrawn in place on a terminal, at most `width` columns and without a newline:
    ///
    ///     step 1200/5000  24%  epoch 1.37  loss 1.642  val 1.701±0.012  38.2k chars/s  3:12 elapsed  ETA 10:07
    ///
    /// When it does not fit, fields are dropped least important first — elapsed, epoch,
    /// chars/s, percent, val, ETA, loss — keeping the order of the rest; the step alone is cut
    /// to `width` as a last resort. The caller writes `"\r" + line + "\u{1B}[K"`; passing one
    /// less than the real width keeps clear of terminals that wrap on the last column.
    package static func terminal(_ s: ProgressSnapshot, width: Int) -> String {
        guard width > 0 else { return "" }
        // (text, priority): a higher priority survives longer on a narrow terminal.
        var fields: [(text: String, priority: Int)] = []
        if let total = s.totalSteps, total > 0 {
            fields.append(("step \(s.step)/\(total)", 100))
            let percent = min(max(Int((100 * Double(s.step) / Double(total)).rounded(.down)), 0), 100)
            fields.append(("\(percent)%", 60))
        } else {
            fields.append(("step \(s.step)", 100))
        }
        fields.append(("epoch \(fixed(s.epoch, 2))", 40))
        fields.append(("loss \(fixed(s.trainLoss, 3))", 90))
        if let val = s.valLoss {
            let error = s.valStandardError.map { "±" + fixed($0, 3) } ?? ""
            fields.append(("val \(fixed(val, 3))" + error, 70))
        }
        fields.append(("\(compactRate(s.charsPerSecond)) chars/s", 50))
        fields.append(("\(formatClock(seconds: s.elapsedSeconds)) elapsed", 30))
        // No total, no ETA: a time-budgeted run's caller may still pass one, so show it then.
        if let eta = s.etaSeconds { fields.append(("ETA \(formatClock(seconds: eta))", 80)) }

        var line = fields.map(\.text).joined(separator: "  ")
        while line.count > width, fields.count > 1 {
            let weakest = fields.indices.min { fields[$0].priority < fields[$1].priority }!
            fields.remove(at: weakest)
            line = fields.map(\.text).joined(separator: "  ")
        }
        return line.count > width ? String(line.prefix(width)) : line
    }

    /// The full line for logs and non-terminal output, with stable `key value` pairs:
    ///
    ///     step 1200/5000 epoch 1.37 train_loss 1.6420 val_loss 1.7010 val_stderr 0.0120 lr 2.00e-03 chars/s 38200 elapsed 192s eta 607s
    ///
    /// `/total`, `val_loss`, `val_stderr` and `eta` appear only when known.
    package static func plain(_ s: ProgressSnapshot) -> String {
        var parts = ["step \(s.step)" + (s.totalSteps.map { "/\($0)" } ?? "")]
        parts.append("epoch \(fixed(s.epoch, 2))")
        parts.append("train_loss \(fixed(s.trainLoss, 4))")
        if let val = s.valLoss { parts.append("val_loss \(fixed(val, 4))") }
        if s.valLoss != nil, let error = s.valStandardError { parts.append("val_stderr \(fixed(error, 4))") }
        parts.append("lr \(String(format: "%.2e", s.learningRate))")
        parts.append("chars/s \(fixed(s.charsPerSecond, 0))")
        parts.append("elapsed \(fixed(s.elapsedSeconds, 0))s")
        if let eta = s.etaSeconds, eta.isFinite { parts.append("eta \(fixed(eta, 0))s") }
        return parts.joined(separator: " ")
    }

    /// A rate in at most three significant digits: `950`, `38.2k`, `382k`, `1.25M`.
    /// Negative or non-finite rates (nothing measured yet) render as `--`.
    package static func compactRate(_ value: Double) -> String {
        guard value.isFinite, value >= 0 else { return "--" }
        // Compare against the rounding threshold, so 999.6 becomes "1.00k", never "1000".
        if value < 999.5 { return fixed(value, 0) }
        for (unit, divisor) in [("k", 1e3), ("M", 1e6), ("G", 1e9)] {
            let scaled = value / divisor
            if scaled < 999.5 || unit == "G" {
                let decimals = scaled < 9.995 ? 2 : scaled < 99.95 ? 1 : 0
                return fixed(scaled, decimals) + unit
            }
        }
        return fixed(value, 0)
    }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        // `+ 0` turns -0.0 into 0.0 so nothing prints as "-0.00".
        String(format: "%.\(decimals)f", value + 0)
    }
}

/// An exponential moving average of the training loss, bias-corrected as in Adam.
///
/// A plain EMA starts from 0, so with β = 0.98 the first fifty steps would read far below the
/// true loss; dividing by 1 − βᵗ removes that pull, and the first value is the loss itself.
package struct LossSmoother: Sendable {
    /// The decay: each new loss contributes 1 − β. 0 means no smoothing.
    package let beta: Double
    private var average = 0.0
    private var betaPower = 1.0
    private var count = 0

    /// - Parameter beta: in `0..<1`; 0.98 averages over roughly the last 50 steps.
    package init(beta: Double = 0.98) {
        precondition(beta >= 0 && beta < 1, "LossSmoother beta must be in 0..<1, got \(beta)")
        self.beta = beta
    }

    /// Adds a loss and returns the smoothed value. A NaN or infinite loss is ignored (a single
    /// bad batch must not poison the average forever) and the current value is returned — or the
    /// loss itself when nothing finite has been seen yet.
    @discardableResult
    package mutating func add(_ loss: Double) -> Double {
        guard loss.isFinite else { return value ?? loss }
        average = beta * average + (1 - beta) * loss
        betaPower *= beta
        count += 1
        return average / (1 - betaPower)
    }

    /// The smoothed loss, or `nil` before the first finite loss.
    package var value: Double? {
        count > 0 ? average / (1 - betaPower) : nil
    }
}

/// The width in columns of the terminal on `fileDescriptor`, or `nil` when it is not a terminal
/// (a pipe, a file) or reports no size (some CI pseudo-terminals report 0).
package func terminalWidth(fileDescriptor: Int32) -> Int? {
    guard isatty(fileDescriptor) == 1 else { return nil }
    var size = winsize()
    let result = withUnsafeMutablePointer(to: &size) { ioctl(fileDescriptor, UInt(TIOCGWINSZ), $0) }
    guard result == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
}

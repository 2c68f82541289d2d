/// A wall-clock training budget, as given to `charnn train --time`.
///
/// Accepted forms (case-insensitive, spaces between parts allowed):
/// - a number with a unit: `90s`, `10m`, `2h`, `1.5h`, `.5h`
/// - units combined largest first, each at most once: `1h30m`, `1h 30m`, `2m05s`, `1h0.5m`
/// - a bare number, meaning seconds: `90`, `0.5`
///
/// The total must be at least a millisecond and at most one year: a longer budget is almost
/// certainly a typo (`1000h` for `100h`), and a year also keeps every derived clock value
/// comfortably inside `Int`. Below a millisecond, `description` (which keeps three decimals)
/// could not show the value in a form that parses back.
@_spi(Internals) public struct TrainingDuration: Sendable, Equatable, CustomStringConvertible {
    /// The length in seconds.
    public var seconds: Double

    /// The longest duration `init(parsing:)` accepts: 365 days.
    public static let maximumSeconds: Double = 365 * 24 * 3600
    /// The shortest positive duration `init(parsing:)` accepts: one millisecond.
    public static let minimumSeconds: Double = 0.001

    /// A duration of `seconds` seconds, taken as is (no validation: parsing is where user input
    /// is checked).
    public init(seconds: Double) {
        self.seconds = seconds
    }

    /// Parses a `--time` argument such as `90s`, `10m`, `2h`, `1h30m`, `1.5h` or `90`.
    ///
    /// - Throws: ``DurationParseError`` for empty, malformed, zero, negative, non-finite,
    ///   under-a-millisecond or over-a-year input and for units other than `h`, `m` and `s`.
    public init(parsing text: String) throws(DurationParseError) {
        let trimmed = text.trimmingSpaces()
        func fail(_ reason: DurationParseError.Reason) -> DurationParseError {
            DurationParseError(input: text, reason: reason)
        }
        if trimmed.isEmpty { throw fail(.empty) }
        // A sign would otherwise read as garbage; say what is actually wrong.
        if trimmed.hasPrefix("-") { throw fail(.notPositive) }

        let chars = Array(trimmed.lowercased().unicodeScalars)
        var index = 0
        var components: [(value: Double, unit: String)] = []

        func skipSpaces() {
            while index < chars.count, chars[index] == " " || chars[index] == "\t" { index += 1 }
        }

        while index < chars.count {
            skipSpaces()
            var number = ""
            while index < chars.count, ("0"..."9").contains(chars[index]) || chars[index] == "." {
                number.unicodeScalars.append(chars[index])
                index += 1
            }
            // Exactly one number per part: at least one digit, at most one decimal point.
            // This also rejects `nan`, `inf` and exponents, which Double(_:) alone would accept.
            guard number.contains(where: \.isNumber), number.filter({ $0 == "." }).count <= 1,
                  let value = Double(number)
            else { throw fail(.malformed) }
            skipSpaces()
            var unit = ""
            while index < chars.count, chars[index].properties.isAlphabetic {
                unit.unicodeScalars.append(chars[index])
                index += 1
            }
            skipSpaces()
            components.append((value, unit))
        }

        var total = 0.0
        if components.count == 1, components[0].unit.isEmpty {
            total = components[0].value
        } else {
            // Units must come largest first so `30m1h` or `1h30` (minutes? seconds?) are caught
            // as the typos they probably are rather than silently guessed.
            let order = ["h", "m", "s"]
            var lastRank = -1
            for component in components {
                if component.unit.isEmpty { throw fail(.malformed) }
                guard let rank = order.firstIndex(of: component.unit) else {
                    throw fail(.unknownUnit(component.unit))
                }
                if rank <= lastRank { throw fail(.unitOrder) }
                lastRank = rank
                total += component.value * [3600.0, 60.0, 1.0][rank]
            }
        }

        // A 400-digit number parses to +inf, which lands here as "too long" — as it should.
        if total > Self.maximumSeconds || !total.isFinite { throw fail(.tooLong) }
        if !(total > 0) { throw fail(.notPositive) }
        // Found by fuzzing: `.0000001` parsed, but its description was `0s`, which does not.
        if total < Self.minimumSeconds { throw fail(.tooShort) }
        self.seconds = total
    }

    /// A compact rendering that `init(parsing:)` reads back: `45s`, `2m05s`, `1h30m`,
    /// `1h00m05s`; under a minute, fractions are kept (`1.5s`); otherwise rounded to the second.
    public var description: String {
        guard seconds.isFinite else { return "\(seconds)s" }
        if seconds < 0 { return "-" + TrainingDuration(seconds: -seconds).description }
        if seconds < 59.5, seconds != seconds.rounded() {
            return ReportFormat.trimmedDecimal(seconds, maxDecimals: 3) + "s"
        }
        // Far beyond the parse limit the unit split is meaningless (and Int conversion could
        // trap); such values never come from parsing.
        guard seconds < 1e15 else { return "\(seconds)s" }
        let total = Int(seconds.rounded())
        let h = total / 3600, m = (total % 3600) / 60, s = total % 60
        if h > 0 {
            let minutes = m > 0 || s > 0 ? ReportFormat.twoDigits(m) + "m" : ""
            return "\(h)h" + minutes + (s > 0 ? ReportFormat.twoDigits(s) + "s" : "")
        }
        if m > 0 { return "\(m)m" + (s > 0 ? ReportFormat.twoDigits(s) + "s" : "") }
        return "\(s)s"
    }
}

/// Why a `--time` argument was rejected; `description` is a single line fit for the terminal.
@_spi(Internals) public struct DurationParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The specific problem.
    public enum Reason: Sendable, Equatable {
        /// Nothing but whitespace.
        case empty
        /// Not a sequence of number-and-unit parts (`abc`, `1.2.3m`, `nan`, `1h30`).
        case malformed
        /// A unit other than `h`, `m` or `s`.
        case unknownUnit(String)
        /// Units not largest first, or repeated (`30m1h`, `1m1m`).
        case unitOrder
        /// Zero or negative.
        case notPositive
        /// More than ``TrainingDuration/maximumSeconds``.
        case tooLong
        /// Positive but less than ``TrainingDuration/minimumSeconds``.
        case tooShort
    }

    /// The text as given.
    public var input: String
    /// What was wrong with it.
    public var reason: Reason

    public init(input: String, reason: Reason) {
        self.input = input
        self.reason = reason
    }

    static let hint = "use a number with s, m or h, e.g. 90s, 10m, 2h or 1h30m"

    public var description: String {
        // The input goes into a one-line message, so control characters (a pasted newline)
        // become `?` and very long input is cut.
        var shown = String(String.UnicodeScalarView(input.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "?" : $0
        }))
        if shown.count > 40 { shown = String(shown.prefix(40)) + "..." }
        let subject = "invalid duration '\(shown)'"
        switch reason {
        case .empty: return "empty duration: \(Self.hint)"
        case .malformed: return "\(subject): \(Self.hint)"
        case .unknownUnit(let unit): return "\(subject): unknown unit '\(unit)'; \(Self.hint)"
        case .unitOrder: return "\(subject): give units largest first, each once; \(Self.hint)"
        case .notPositive: return "\(subject): must be greater than zero; \(Self.hint)"
        case .tooLong: return "\(subject): longer than the one-year limit (8760h); \(Self.hint)"
        case .tooShort: return "\(subject): shorter than the 1 ms minimum; \(Self.hint)"
        }
    }
}

/// Elapsed time or an ETA as a clock: `m:ss` under an hour (`3:12`, `0:05`), `h:mm:ss` from an
/// hour on (`1:02:03`). Rounds to the nearest second. Negative, NaN, infinite and absurdly large
/// (≥ 10,000 h) values render as `--:--`, which is what an ETA shows before it is known.
@_spi(Internals) public func formatClock(seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0, seconds < 36_000_000 else { return "--:--" }
    // Round first so 3599.6 s becomes 1:00:00, not 59:60.
    let total = Int(seconds.rounded())
    let h = total / 3600, m = (total % 3600) / 60, s = total % 60
    if h > 0 { return "\(h):\(ReportFormat.twoDigits(m)):\(ReportFormat.twoDigits(s))" }
    return "\(m):\(ReportFormat.twoDigits(s))"
}

/// Number formatting shared by the training reports, namespaced so it cannot collide with
/// helpers elsewhere in the module.
enum ReportFormat {
    static func twoDigits(_ n: Int) -> String {
        n < 10 ? "0\(n)" : "\(n)"
    }

    /// `value` with at most `maxDecimals` decimals and no trailing zeros (`1.5`, `0.25`, `3`).
    static func trimmedDecimal(_ value: Double, maxDecimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<maxDecimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        // Swift prints small values in exponent form (1e-05); only plain forms are trimmed.
        if text.contains("."), !text.contains("e") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}

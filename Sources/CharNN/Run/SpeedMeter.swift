/// Symbols per second over the recent steps (for the progress line) and overall.
struct SpeedMeter {
    private var window: [(symbols: Int, seconds: Double)] = []
    private var totalSymbols = 0
    private var totalSeconds = 0.0

    mutating func add(symbols: Int, seconds: Double) {
        window.append((symbols, seconds))
        if window.count > 20 { window.removeFirst() }
        totalSymbols += symbols
        totalSeconds += seconds
    }

    var rate: Double {
        let seconds = window.reduce(0) { $0 + $1.seconds }
        return seconds > 0 ? Double(window.reduce(0) { $0 + $1.symbols }) / seconds : 0
    }

    var overall: Double { totalSeconds > 0 ? Double(totalSymbols) / totalSeconds : 0 }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

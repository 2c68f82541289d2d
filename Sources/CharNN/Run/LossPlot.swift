import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `loss.svg`: training and validation loss against step, as a self-contained SVG that any
/// browser opens — no plotting library, no external tools.
///
/// Non-finite losses are skipped, series are sorted by step, and each series is reduced to at
/// most ``maxPointsPerSeries`` points so a long run still gives a small, fast file.
package enum LossPlot {
    /// The most points drawn per series; more are reduced by ``downsample(_:maxPoints:)``.
    package static let maxPointsPerSeries = 2000

    // Canvas and plot-area geometry, in SVG user units (pixels at 100% zoom).
    static let width = 800.0, height = 480.0
    static let left = 76.0, right = 776.0, top = 48.0, bottom = 420.0
    static let trainColor = "#1f77b4", validationColor = "#d62728"

    /// The complete SVG document.
    ///
    /// - Parameters:
    ///   - train: training loss (nats/char) by step.
    ///   - validation: validation loss (nats/char) by step; may be empty.
    ///   - title: shown above the plot; XML-escaped here.
    package static func svg(
        train: [(step: Int, loss: Double)], validation: [(step: Int, loss: Double)], title: String
    ) -> String {
        let trainPoints = downsample(cleaned(train), maxPoints: maxPointsPerSeries)
        let valPoints = downsample(cleaned(validation), maxPoints: maxPointsPerSeries)
        let all = trainPoints + valPoints

        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" \
        viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
        <title>\(escapeXML(title))</title>
        <rect width="100%" height="100%" fill="white"/>
        <text class="title" x="\(fmt(width / 2))" y="28" text-anchor="middle" font-size="16" font-weight="bold">\(escapeXML(title))</text>

        """
        let frame = "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(right - left))\" "
            + "height=\"\(fmt(bottom - top))\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n"
        guard let first = all.first else {
            // Before the first evaluation the file should still open and say why it is blank.
            out += frame
            out += "<text class=\"empty\" x=\"\(fmt((left + right) / 2))\" y=\"\(fmt((top + bottom) / 2))\" "
                + "text-anchor=\"middle\" font-size=\"16\" fill=\"#666\">no data yet</text>\n</svg>\n"
            return out
        }

        // Axis ranges: the data extent, widened when degenerate (one point, a flat line) so
        // there is something to divide, then rounded out to whole tick intervals.
        var stepLow = Double(first.step), stepHigh = stepLow
        var lossLow = first.loss, lossHigh = lossLow
        for p in all {
            stepLow = min(stepLow, Double(p.step)); stepHigh = max(stepHigh, Double(p.step))
            lossLow = min(lossLow, p.loss); lossHigh = max(lossHigh, p.loss)
        }
        if stepLow == stepHigh { stepLow = max(0, stepLow - 1); stepHigh += 1 }
        if lossLow == lossHigh {
            let pad = max(abs(lossLow) * 0.05, 0.05)
            lossLow -= pad; lossHigh += pad
        }
        let xTicks = niceTicks(lower: stepLow, upper: stepHigh, maxCount: 8, minSpacing: 1)
        let yTicks = niceTicks(lower: lossLow, upper: lossHigh, maxCount: 7, minSpacing: 0)
        let x0 = xTicks.values.first!, x1 = xTicks.values.last!
        let y0 = yTicks.values.first!, y1 = yTicks.values.last!
        func px(_ step: Double) -> Double { left + (step - x0) / (x1 - x0) * (right - left) }
        func px(_ step: Int) -> Double { px(Double(step)) }
        func py(_ loss: Double) -> Double { bottom - (loss - y0) / (y1 - y0) * (bottom - top) }

        // Grid and tick labels first, so the data lines are drawn over them.
        out += "<g class=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n"
        for t in xTicks.values { out += "<line x1=\"\(fmt(px(t)))\" y1=\"\(fmt(top))\" x2=\"\(fmt(px(t)))\" y2=\"\(fmt(bottom))\"/>\n" }
        for t in yTicks.values { out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(right))\" y2=\"\(fmt(py(t)))\"/>\n" }
        out += "</g>\n" + frame
        out += "<g class=\"x-ticks\" text-anchor=\"middle\" fill=\"#222\">\n"
        for t in xTicks.values {
            out += "<text x=\"\(fmt(px(t)))\" y=\"\(fmt(bottom + 18))\">\(stepLabel(t))</text>\n"
        }
        out += "</g>\n<g class=\"y-ticks\" text-anchor=\"end\" fill=\"#222\">\n"
        for t in yTicks.values {
            out += "<text x=\"\(fmt(left - 8))\" y=\"\(fmt(py(t) + 4))\">\(tickLabel(t, decimals: yTicks.decimals))</text>\n"
        }
        out += "</g>\n"
        out += "<text class=\"x-label\" x=\"\(fmt((left + right) / 2))\" y=\"\(fmt(height - 16))\" text-anchor=\"middle\" font-size=\"13\">step</text>\n"
        out += "<text class=\"y-label\" transform=\"translate(20,\(fmt((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">loss (nats/char)</text>\n"

        // Series: a polyline each; markers where a lone point would otherwise be invisible, and
        // on validation, whose few points are the real measurements.
        func series(_ points: [(step: Int, loss: Double)], name: String, color: String, width: Double, markers: Bool) {
            guard !points.isEmpty else { return }
            out += "<g class=\"\(name)\">\n"
            let coordinates = points.map { "\(fmt(px($0.step))),\(fmt(py($0.loss)))" }.joined(separator: " ")
            out += "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(fmt(width))\" stroke-linejoin=\"round\"/>\n"
            if markers || points.count == 1 {
                for p in points { out += "<circle cx=\"\(fmt(px(p.step)))\" cy=\"\(fmt(py(p.loss)))\" r=\"2.5\" fill=\"\(color)\"/>\n" }
            }
            out += "</g>\n"
        }
        series(trainPoints, name: "train", color: trainColor, width: 1.2, markers: false)
        series(valPoints, name: "validation", color: validationColor, width: 2, markers: valPoints.count <= 200)

        // Legend in the top-right corner, where a falling loss curve leaves room. The numbers
        // answer the usual question without reading the axes: where is it now, how good did
        // validation get.
        var entries: [(label: String, color: String)] = []
        if let last = trainPoints.last { entries.append(("train (last \(fixed(last.loss, 3)))", trainColor)) }
        if let best = valPoints.map(\.loss).min() { entries.append(("validation (best \(fixed(best, 3)))", validationColor)) }
        let legendWidth = 46 + 7.2 * Double(entries.map(\.label.count).max() ?? 0)
        let legendX = right - 10 - legendWidth, legendY = top + 10
        out += "<g class=\"legend\">\n<rect x=\"\(fmt(legendX))\" y=\"\(fmt(legendY))\" width=\"\(fmt(legendWidth))\" "
            + "height=\"\(fmt(10 + 20 * Double(entries.count)))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbb\"/>\n"
        for (i, entry) in entries.enumerated() {
            let y = legendY + 15 + 20 * Double(i)
            out += "<line x1=\"\(fmt(legendX + 8))\" y1=\"\(fmt(y))\" x2=\"\(fmt(legendX + 32))\" y2=\"\(fmt(y))\" stroke=\"\(entry.color)\" stroke-width=\"2.5\"/>\n"
            out += "<text x=\"\(fmt(legendX + 38))\" y=\"\(fmt(y + 4))\">\(escapeXML(entry.label))</text>\n"
        }
        out += "</g>\n</svg>\n"
        return out
    }

    /// Writes ``svg(train:validation:title:)`` to `url` atomically: into a temporary file in the
    /// same directory, then renamed over `url`, so a browser or a crash never sees half a plot.
    package static func write(
        to url: URL, train: [(step: Int, loss: Double)], validation: [(step: Int, loss: Double)], title: String
    ) throws {
        let data = Data(svg(train: train, validation: validation, title: title).utf8)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Reduces `points` to at most `maxPoints` (at least 4), keeping the first and last and, for
    /// each run of points in between, its lowest and highest loss — so the band of a noisy
    /// training loss and any spike survive, which plain every-nth thinning would lose.
    package static func downsample(_ points: [(step: Int, loss: Double)], maxPoints: Int) -> [(step: Int, loss: Double)] {
        let maxPoints = max(maxPoints, 4)
        guard points.count > maxPoints else { return points }
        let interior = points.count - 2
        let buckets = (maxPoints - 2) / 2
        var out = [points[0]]
        out.reserveCapacity(maxPoints)
        for b in 0..<buckets {
            let start = 1 + b * interior / buckets, end = 1 + (b + 1) * interior / buckets
            guard start < end else { continue }
            var lo = start, hi = start
            for i in start..<end {
                if points[i].loss < points[lo].loss { lo = i }
                if points[i].loss > points[hi].loss { hi = i }
            }
            // In step order, so the line does not double back.
            out.append(points[min(lo, hi)])
            if lo != hi { out.append(points[max(lo, hi)]) }
        }
        out.append(points[points.count - 1])
        return out
    }

    /// Round tick positions covering `lower...upper`: spacing 1, 2, 2.5 or 5 × 10ⁿ (at least
    /// `minSpacing`), about `maxCount` ticks, first ≤ lower and last ≥ upper. `decimals` is
    /// how many decimals the labels need to tell the ticks apart.
    package static func niceTicks(
        lower: Double, upper: Double, maxCount: Int, minSpacing: Double = 0
    ) -> (values: [Double], decimals: Int) {
        guard lower.isFinite, upper.isFinite, upper > lower else { return ([lower, lower + 1], 0) }
        let rough = (upper - lower) / Double(max(maxCount - 1, 1))
        let magnitude = pow(10, floor(log10(rough)))
        let fraction = rough / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        var spacing = max(nice * magnitude, minSpacing)
        // Integer axes (steps) cannot use 2.5: the next nice spacing up is 5.
        if minSpacing >= 1, spacing != spacing.rounded() { spacing = 5 * magnitude }
        // The tolerance stops 1.4 / 0.05 = 27.999… from adding a tick below the data.
        let first = (lower / spacing + 1e-9).rounded(.down), last = (upper / spacing - 1e-9).rounded(.up)
        // Multiply integers by the spacing rather than accumulate, so 0.1 + 0.1 + 0.1 error
        // does not build up.
        let values = stride(from: first, through: last, by: 1).map { $0 * spacing }
        var decimals = max(0, -Int(floor(log10(spacing) + 1e-9)))
        if nice == 2.5, spacing == nice * magnitude, magnitude < 10 { decimals += 1 }
        return (values, decimals)
    }

    /// Finite points sorted by step (stable, so equal steps keep their order).
    static func cleaned(_ points: [(step: Int, loss: Double)]) -> [(step: Int, loss: Double)] {
        let finite = points.filter { $0.loss.isFinite }
        if zip(finite, finite.dropFirst()).allSatisfy({ $0.step <= $1.step }) { return finite }
        return finite.enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }.map(\.element)
    }

    /// A coordinate with one decimal, trailing `.0` dropped: enough for the screen, small files.
    static func fmt(_ value: Double) -> String {
        ReportFormat.trimmedDecimal(value, maxDecimals: 1)
    }

    static func fixed(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func tickLabel(_ value: Double, decimals: Int) -> String {
        // `+ 0` turns -0.0 into 0.0, so a tick at zero is not labelled "-0".
        fixed(value + 0, decimals)
    }

    /// A step tick: plain below 10,000, else `250k`, `1.5M`, so labels of long runs stay
    /// short enough not to run into each other or off the right edge.
    static func stepLabel(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1_000_000, value.truncatingRemainder(dividingBy: 100_000) == 0 {
            return ReportFormat.trimmedDecimal(value / 1_000_000, maxDecimals: 1) + "M"
        }
        if magnitude >= 10_000, value.truncatingRemainder(dividingBy: 100) == 0 {
            return ReportFormat.trimmedDecimal(value / 1_000, maxDecimals: 1) + "k"
        }
        return tickLabel(value, decimals: 0)
    }

    /// Text made safe for XML content and attributes: markup characters escaped, and control
    /// characters, which XML 1.0 forbids even escaped, replaced by spaces.
    package static func escapeXML(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || (0xFFFE...0xFFFF).contains(v) { out += " " } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

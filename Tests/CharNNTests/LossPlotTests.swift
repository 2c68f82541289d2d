import CharNN
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite("Loss plot (loss.svg)")
struct LossPlotTests {
    typealias Points = [(step: Int, loss: Double)]

    /// A realistic run: train loss falling from ln 65 with noise, validation every 250 steps.
    static let train: Points = (0...5000).map { step in
        let s = Double(step)
        return (step, 1.35 + 2.8 * exp(-s / 600) + 0.06 * sin(s * 0.7) * exp(-s / 4000))
    }
    static let validation: Points = stride(from: 250, through: 5000, by: 250).map { step in
        (step, 1.45 + 2.6 * exp(-Double(step) / 650))
    }

    /// Parses `svg` as XML (a parse failure fails the test) and returns the document.
    static func parse(_ svg: String) throws -> XMLDocument {
        try XMLDocument(data: Data(svg.utf8), options: [])
    }

    /// The `points` attribute of the polyline in `<g class="name">`, as (x, y) pairs.
    static func polyline(_ doc: XMLDocument, _ name: String) throws -> [(x: Double, y: Double)] {
        let nodes = try doc.nodes(forXPath: "//*[local-name()='g'][@class='\(name)']/*[local-name()='polyline']/@points")
        let attribute = try #require(nodes.first?.stringValue, "no \(name) polyline")
        return attribute.split(separator: " ").map { pair in
            let xy = pair.split(separator: ",").map { Double($0)! }
            return (xy[0], xy[1])
        }
    }

    static func texts(_ doc: XMLDocument) throws -> [String] {
        try doc.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
    }

    @Test("a real run: both series, legend, title, axis labels, well-formed XML")
    func fullPlot() throws {
        let svg = LossPlot.svg(train: Self.train, validation: Self.validation, title: "tinyshakespeare 2x512")
        #expect(svg.hasPrefix("<?xml"))
        let doc = try Self.parse(svg)
        #expect(doc.rootElement()?.name == "svg")
        let texts = try Self.texts(doc)
        #expect(texts.contains("tinyshakespeare 2x512"))
        #expect(texts.contains("step"))
        #expect(texts.contains("loss (nats/char)"))
        #expect(texts.contains { $0.hasPrefix("train (last 1.") })
        let best = Self.validation.map(\.loss).min()!
        #expect(texts.contains("validation (best \(String(format: "%.3f", best)))"))
        #expect(try doc.nodes(forXPath: "//*[local-name()='g'][@class='legend']").count == 1)
        let trainCount = try Self.polyline(doc, "train").count
        #expect(trainCount <= 2000 && trainCount > 1900)
        #expect(try Self.polyline(doc, "validation").count == 20)
        // Round tick labels: steps 0…5000 in thousands, losses in halves.
        #expect(["0", "1000", "2000", "3000", "4000", "5000"].allSatisfy(texts.contains))
        #expect(["1.0", "1.5", "2.0", "4.0", "4.5"].allSatisfy(texts.contains))
        if let keep = ProcessInfo.processInfo.environment["CHARNN_KEEP_PLOT"] {
            try LossPlot.write(to: URL(fileURLWithPath: keep), train: Self.train, validation: Self.validation,
                               title: "tinyshakespeare 2x512")
        }
    }

    @Test("points map onto the plot area corners")
    func mapping() throws {
        // x ticks 0…100, y ticks 2.0…4.0: the points land exactly on the frame's corners.
        let doc = try Self.parse(LossPlot.svg(train: [(0, 4), (100, 2)], validation: [], title: "t"))
        let points = try Self.polyline(doc, "train")
        #expect(points.map(\.x) == [76, 776])
        #expect(points.map(\.y) == [48, 420])
        #expect(try doc.nodes(forXPath: "//*[local-name()='g'][@class='validation']").isEmpty)
    }

    @Test("no data: a valid SVG saying so")
    func empty() throws {
        let svg = LossPlot.svg(train: [], validation: [(5, .nan)], title: "run")
        let doc = try Self.parse(svg)
        #expect(try Self.texts(doc).contains("no data yet"))
        #expect(!svg.contains("polyline"))
    }

    @Test("a single point is drawn as a marker with a sensible axis")
    func singlePoint() throws {
        let svg = LossPlot.svg(train: [(0, 4.17)], validation: [], title: "run")
        let doc = try Self.parse(svg)
        #expect(try doc.nodes(forXPath: "//*[local-name()='g'][@class='train']/*[local-name()='circle']").count == 1)
        #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"))
        let texts = try Self.texts(doc)
        #expect(texts.contains("0") && texts.contains("1"))
        #expect(!texts.contains("-1"))
    }

    @Test("a flat line sits inside a padded axis")
    func flatLine() throws {
        let doc = try Self.parse(LossPlot.svg(train: (0..<50).map { ($0, 1.5) }, validation: [(49, 1.5)], title: "flat"))
        let ys = try Self.polyline(doc, "train").map(\.y)
        #expect(Set(ys).count == 1)
        #expect(ys[0] > 48 && ys[0] < 420)
    }

    @Test("NaN and infinite losses are skipped; unsorted input is sorted by step")
    func nonFinite() throws {
        let train: Points = [(30, 2.0), (10, 3.0), (20, .nan), (40, .infinity), (50, -.infinity), (60, 1.0)]
        let svg = LossPlot.svg(train: train, validation: [(20, .nan), (40, 1.8)], title: "skip")
        #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"))
        let doc = try Self.parse(svg)
        let xs = try Self.polyline(doc, "train").map(\.x)
        #expect(xs.count == 3)
        #expect(xs == xs.sorted())
        #expect(try Self.polyline(doc, "validation").count == 1)
    }

    @Test("the title is escaped")
    func escaping() throws {
        let title = "a<b & \"c\" 'd'\u{1}>"
        let svg = LossPlot.svg(train: [(1, 1)], validation: [], title: title)
        #expect(svg.contains("a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt;"))
        #expect(try Self.texts(Self.parse(svg)).contains("a<b & \"c\" 'd' >"))
        #expect(LossPlot.escapeXML("<&>") == "&lt;&amp;&gt;")
    }

    @Test("long runs label steps compactly")
    func stepLabels() throws {
        let train: Points = (0...1000).map { ($0 * 1000, 2 - Double($0) / 1000) }
        let texts = try Self.texts(Self.parse(LossPlot.svg(train: train, validation: [], title: "long")))
        #expect(["0", "200k", "400k", "800k", "1M"].allSatisfy(texts.contains), "\(texts)")
        #expect(!texts.contains("1000000"))
    }

    @Test("downsampling keeps first, last, and spikes within the budget")
    func downsample() {
        var points: Points = (0..<10_000).map { ($0, 2.0) }
        points[5_555].loss = 9
        points[7_777].loss = -1
        let reduced = LossPlot.downsample(points, maxPoints: 2000)
        #expect(reduced.count <= 2000 && reduced.count > 1000)
        #expect(reduced.first?.step == 0 && reduced.last?.step == 9_999)
        #expect(reduced.contains { $0.step == 5_555 && $0.loss == 9 })
        #expect(reduced.contains { $0.step == 7_777 && $0.loss == -1 })
        #expect(zip(reduced, reduced.dropFirst()).allSatisfy { $0.step < $1.step })
        let small: Points = [(1, 1), (2, 2)]
        #expect(LossPlot.downsample(small, maxPoints: 2000).map(\.step) == [1, 2])
    }

    @Test("nice ticks", arguments: [
        (0.0, 4.17, 7, 0.0, [0.0, 1, 2, 3, 4, 5], 0),
        (1.31, 4.2, 7, 0, [1.0, 1.5, 2, 2.5, 3, 3.5, 4, 4.5], 1),
        (0, 15, 8, 1, [0.0, 5, 10, 15], 0),
        (1.4, 1.6, 7, 0, [1.4, 1.45, 1.5, 1.55, 1.6], 2),
        (0, 1, 8, 1, [0.0, 1], 0),
        (0, 0.9, 5, 0, [0.0, 0.25, 0.5, 0.75, 1.0], 2),
    ])
    func ticks(lower: Double, upper: Double, count: Int, minSpacing: Double, expected: [Double], decimals: Int) {
        let ticks = LossPlot.niceTicks(lower: lower, upper: upper, maxCount: count, minSpacing: minSpacing)
        #expect(ticks.values.count == expected.count)
        #expect(zip(ticks.values, expected).allSatisfy { abs($0 - $1) < 1e-9 }, "\(ticks.values)")
        #expect(ticks.decimals == decimals)
    }

    @Test("write replaces the file atomically and leaves no temporary behind")
    func write() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("charnn-plot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("loss.svg")
        try Data("old".utf8).write(to: file)
        try LossPlot.write(to: file, train: Self.train, validation: Self.validation, title: "w")
        let written = String(decoding: try Data(contentsOf: file), as: UTF8.self)
        #expect(written == LossPlot.svg(train: Self.train, validation: Self.validation, title: "w"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["loss.svg"])
        let missing = dir.appendingPathComponent("no-such-dir/loss.svg")
        #expect(throws: (any Error).self) { try LossPlot.write(to: missing, train: [], validation: [], title: "x") }
    }
}

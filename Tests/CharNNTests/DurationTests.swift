@_spi(Internals) import CharNN
import Testing

@Suite("Duration parsing and clock formatting")
struct DurationTests {
    @Test("accepted --time forms", arguments: [
        ("90s", 90.0), ("10m", 600), ("2h", 7200), ("1h30m", 5400), ("1h 30m", 5400),
        ("1.5h", 5400), (".5h", 1800), ("2m05s", 125), ("1h0m5s", 3605), ("90", 90),
        ("0.5", 0.5), ("  10M ", 600), ("1H30M", 5400), ("8760h", 31_536_000), ("1h0.5m", 3630),
    ])
    func accepts(text: String, seconds: Double) throws {
        let duration = try TrainingDuration(parsing: text)
        #expect(duration.seconds == seconds)
    }

    @Test("rejected --time forms say why", arguments: [
        ("", DurationParseError.Reason.empty),
        ("   ", .empty),
        ("10x", .unknownUnit("x")),
        ("10 min", .unknownUnit("min")),
        ("-5m", .notPositive),
        ("0", .notPositive),
        ("0h0m0s", .notPositive),
        ("nan", .malformed),
        ("inf", .malformed),
        ("infh", .malformed),
        ("1e3s", .unknownUnit("e")),
        ("abc", .malformed),
        ("1.2.3m", .malformed),
        ("1h30", .malformed),
        ("m", .malformed),
        ("+5m", .malformed),
        ("10m!", .malformed),
        ("30m1h", .unitOrder),
        ("1m1m", .unitOrder),
        ("8761h", .tooLong),
        ("366d", .unknownUnit("d")),
        (String(repeating: "9", count: 400) + "s", .tooLong),
    ])
    func rejects(text: String, reason: DurationParseError.Reason) {
        #expect(throws: DurationParseError(input: text, reason: reason)) {
            try TrainingDuration(parsing: text)
        }
    }

    @Test("error message is one line naming the input and the accepted forms")
    func errorMessage() {
        let error = DurationParseError(input: "10x", reason: .unknownUnit("x"))
        #expect(error.description == "invalid duration '10x': unknown unit 'x'; use a number with s, m or h, e.g. 90s, 10m, 2h or 1h30m")
        let pasted = DurationParseError(input: "10\nm", reason: .malformed)
        #expect(pasted.description == "invalid duration '10?m': use a number with s, m or h, e.g. 90s, 10m, 2h or 1h30m")
        #expect(DurationParseError(input: "", reason: .empty).description.hasPrefix("empty duration: use a number"))
    }

    @Test("description is compact", arguments: [
        (45.0, "45s"), (125, "2m05s"), (120, "2m"), (5400, "1h30m"), (3600, "1h"), (3605, "1h00m05s"),
        (1.5, "1.5s"), (0.25, "0.25s"), (59.7, "1m"), (36_000, "10h"), (-90, "-1m30s"), (1e300, "1e+300s"),
    ])
    func description(seconds: Double, expected: String) {
        #expect(TrainingDuration(seconds: seconds).description == expected)
    }

    @Test("description parses back to the same duration")
    func roundTrip() throws {
        for seconds in [1.0, 45, 59, 60, 61, 125, 3599, 3600, 3605, 5400, 86_399, 90_061, 31_536_000] {
            let text = TrainingDuration(seconds: seconds).description
            #expect(try TrainingDuration(parsing: text).seconds == seconds, "\(text)")
        }
    }

    @Test("clock: m:ss under an hour, h:mm:ss above", arguments: [
        (0.0, "0:00"), (5, "0:05"), (192, "3:12"), (607, "10:07"), (3599.4, "59:59"),
        (3599.6, "1:00:00"), (3723, "1:02:03"), (36_000, "10:00:00"), (360_000, "100:00:00"),
    ])
    func clock(seconds: Double, expected: String) {
        #expect(formatClock(seconds: seconds) == expected)
    }

    @Test("clock: unknown values render as --:--", arguments: [-1.0, .nan, .infinity, -.infinity, 1e300])
    func clockUnknown(seconds: Double) {
        #expect(formatClock(seconds: seconds) == "--:--")
    }
}

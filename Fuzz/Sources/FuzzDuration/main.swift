import CharNN
import FuzzSupport

/// libFuzzer entry point: any bytes, as a `--time` argument.
///
/// Beyond "no crash": an accepted duration is positive and at most a year, and its description
/// parses back to (nearly) the same length, as `TrainingDuration.description` promises.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDuration(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let duration: TrainingDuration
    do { duration = try TrainingDuration(parsing: text) } catch {
        // Every refusal is one printable line.
        precondition(!error.description.contains("\n"), "a multi-line error for \(text.debugDescription)")
        return 0
    }
    precondition(duration.seconds > 0 && duration.seconds <= TrainingDuration.maximumSeconds,
                 "accepted \(duration.seconds) s from \(text.debugDescription)")
    let shown = duration.description
    guard let again = try? TrainingDuration(parsing: shown) else {
        preconditionFailure("\(duration.seconds) s is shown as \(shown.debugDescription), which does not parse")
    }
    // Above a minute the description rounds to the second; below, to the millisecond.
    precondition(abs(again.seconds - duration.seconds) <= 0.5 + 1e-9 * duration.seconds,
                 "\(text.debugDescription) → \(shown) → \(again.seconds) s")
    return 0
}

/// The process entry point (see ``runFuzzer(argc:argv:_:)`` for why it is not libFuzzer's `main`).
@_cdecl("FuzzDuration_main")
public func main(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzzDuration)
}

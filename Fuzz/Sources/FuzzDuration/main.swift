@_spi(Internals) import CharNN
import FuzzSupport

/// libFuzzer entry point: any bytes, as a `--time` argument. A crash, a sanitizer report, a timeout or a
/// broken property (``FuzzProperties/duration(_:)``) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDuration(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if let failure = FuzzProperties.duration(Array(UnsafeBufferPointer(start: data, count: size))) {
        preconditionFailure(failure)
    }
    return 0
}

/// The process entry point (see ``runFuzzer(argc:argv:_:)`` for why it is not libFuzzer's `main`).
@_cdecl("FuzzDuration_main")
public func main(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzzDuration)
}

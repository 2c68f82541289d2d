@_spi(Internals) import CharNN
import FuzzSupport

/// libFuzzer entry point: any bytes, read as a checkpoint file. A crash, a sanitizer report, a timeout or a
/// broken property (``FuzzProperties/checkpoint(_:)``) is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if let failure = FuzzProperties.checkpoint(Array(UnsafeBufferPointer(start: data, count: size))) {
        preconditionFailure(failure)
    }
    return 0
}

/// The process entry point (see ``runFuzzer(argc:argv:_:)`` for why it is not libFuzzer's `main`).
@_cdecl("FuzzCheckpoint_main")
public func main(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzzCheckpoint)
}

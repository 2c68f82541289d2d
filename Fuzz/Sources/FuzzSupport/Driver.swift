/// The signature libFuzzer calls for each input.
public typealias FuzzTarget = @convention(c) (UnsafePointer<UInt8>, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ target: FuzzTarget
) -> Int32

/// Runs libFuzzer's driver on `target` with the process's arguments.
///
/// Why not libFuzzer's own `main`: SwiftPM links every executable with `main` aliased to
/// `<Module>_main` (so tests can link executables), and `-parse-as-library` stops the compiler
/// from emitting that symbol, so the link fails. Each target instead defines `<Module>_main`
/// itself and hands over to the driver libFuzzer exports for exactly this purpose.
public func runFuzzer(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ target: FuzzTarget) -> Int32 {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return runDriver(&argc, &argv, target)
}

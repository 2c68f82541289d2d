import CKernels
import COpenBLAS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What charnn knows and sets about the OpenBLAS it runs on.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and falls back to its SSE3
/// ("Prescott") kernels, about 10× slower. It reads `OPENBLAS_CORETYPE` only in its load-time
/// constructor, so the executable re-executes itself once with the right value before doing any
/// work (see ``reexecWithPreferredEnvironmentIfNeeded(arguments:)`` and docs/simd.md).
@_spi(Internals) public enum OpenBLASRuntime {
    /// The kernel family OpenBLAS chose, e.g. "SkylakeX" or "Prescott".
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The number of threads OpenBLAS uses for its parallel kernels.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets OpenBLAS's thread count; it takes effect for the next call.
    ///
    /// It waits for a ``withThreads(_:_:)`` body under way on another thread to end, so a run that
    /// sets its count as it starts never changes the count under another caller's products. Do not
    /// call it inside such a body: the lock is not recursive.
    public static func setThreads(_ count: Int) {
        threadCountOwner.withLock { _ in setThreadsUnlocked(count) }
    }

    private static func setThreadsUnlocked(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// Held by ``withThreads(_:_:)`` for the whole of its body.
    private static let threadCountOwner = Mutex(())

    /// Runs `body` with OpenBLAS at `count` threads, then restores the count it found, holding one
    /// process-wide lock throughout.
    ///
    /// OpenBLAS's thread count is one setting for the whole process, and its sums depend on it. Two
    /// callers that each set it and then multiply (the training halves, which need 1, and a sampler
    /// stepping on another thread at 2) otherwise change each other's bits between the set and the
    /// product: a training run then differed from an identical one when a sampler ran beside it. Under
    /// this lock the second caller waits for the first's products to end. `body` must not call this
    /// again, on its own thread or on one it waits for: the lock is not recursive.
    /// Returns `body`'s result, or rethrows its error once the count is restored.
    package static func withThreads<Value, Failure: Error>(
        _ count: Int, _ body: () throws(Failure) -> Value
    ) throws(Failure) -> Value {
        try threadCountOwner.withLock { (_) throws(Failure) -> sending Value in
            let previous = threads
            if previous != max(1, count) { setThreadsUnlocked(count) }
            defer { if threads != previous { setThreadsUnlocked(previous) } }
            return try body()
        }
    }

    /// The core type that suits this CPU when OpenBLAS picked a generic one, or nil.
    ///
    /// With `CHARNN_SIMD` set, never a family wider than the variant it forces (`ck_simd_level()`).
    public static var betterCoreType: String? { betterCoreType(coreName: coreName, simdLevel: ck_simd_level()) }

    /// The core type for a CPU of `simdLevel` (1 AVX-512, 2 AVX2 + FMA, 0 neither) when OpenBLAS
    /// chose `coreName`, or nil to keep its choice. Only generic choices are replaced, and never
    /// with SkylakeX for a CPU without AVX-512: those kernels die with SIGILL there.
    package static func betterCoreType(coreName: String, simdLevel: Int32) -> String? {
        let generic = ["Prescott", "Core2", "Nehalem", "Katmai", "Coppermine", "Northwood", "Banias",
                       "Atom", "Penryn", "Dunnington", "unknown"]
        guard generic.contains(coreName) else { return nil }
        switch simdLevel {
        case 1: return "SkylakeX"
        case 2: return "Haswell"
        default: return nil
        }
    }

    package static let reexecMarker = "CHARNN_OPENBLAS_REEXEC"

    /// The environment OpenBLAS should have been loaded with, where it differs from what it has:
    /// - `OPENBLAS_CORETYPE` when OpenBLAS chose generic kernels on a CPU that runs better ones;
    /// - `OPENBLAS_THREAD_TIMEOUT=4`, so its worker threads sleep as soon as a product is done
    ///   instead of spinning for about 0.1 s (its default), which stole the second core from
    ///   charnn's own threads between OpenBLAS calls.
    /// Values the user set are never replaced.
    public static var preferredEnvironment: [(String, String)] {
        preferredEnvironment(environment: liveEnvironment, coreName: coreName, simdLevel: ck_cpu_simd_level())
    }

    package static func preferredEnvironment(environment: (String) -> String?, coreName: String, simdLevel: Int32) -> [(String, String)] {
        var wanted: [(String, String)] = []
        if environment("OPENBLAS_CORETYPE") == nil, let core = betterCoreType(coreName: coreName, simdLevel: simdLevel) {
            wanted.append(("OPENBLAS_CORETYPE", core))
        }
        if environment("OPENBLAS_THREAD_TIMEOUT") == nil { wanted.append(("OPENBLAS_THREAD_TIMEOUT", "4")) }
        return wanted
    }

    /// The variables to set before re-executing, or nil to carry on as loaded: when nothing is
    /// wanted, or when this process is already the re-executed one (the marker is set), so a
    /// value OpenBLAS ignores can never make charnn re-execute itself forever.
    package static func reexecPlan(environment: (String) -> String?, coreName: String, simdLevel: Int32) -> [(String, String)]? {
        guard environment(reexecMarker) == nil else { return nil }
        let wanted = preferredEnvironment(environment: environment, coreName: coreName, simdLevel: simdLevel)
        return wanted.isEmpty ? nil : wanted + [(reexecMarker, "1")]
    }

    private static func liveEnvironment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// Re-executes the current program once with ``preferredEnvironment`` set, because OpenBLAS
    /// reads these variables only in its load-time constructor. Returns only if no re-exec was
    /// needed or possible; the marker variable stops a loop.
    public static func reexecWithPreferredEnvironmentIfNeeded(arguments: [String]) {
        guard let plan = reexecPlan(environment: liveEnvironment, coreName: coreName, simdLevel: ck_cpu_simd_level()) else { return }
        for (name, value) in plan { setenv(name, value, 1) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // execv returned: carry on as loaded rather than fail.
        for pointer in argv { free(pointer) }
        for (name, _) in plan where name != reexecMarker { unsetenv(name) }
    }
}

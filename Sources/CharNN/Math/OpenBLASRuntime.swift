import CKernels
import COpenBLAS

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
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The core type that suits this CPU when OpenBLAS picked a generic one, or nil.
    ///
    /// Never answers SkylakeX for a CPU without AVX-512: those kernels die with SIGILL there. With
    /// `CHARNN_SIMD` set, never a family wider than the variant it forces.
    public static var betterCoreType: String? {
        let generic = ["Prescott", "Core2", "Nehalem", "Katmai", "Coppermine", "Northwood", "Banias",
                       "Atom", "Penryn", "Dunnington", "unknown"]
        guard generic.contains(coreName) else { return nil }
        switch ck_simd_level() {
        case 1: return "SkylakeX"
        case 2: return "Haswell"
        default: return nil
        }
    }

    static let reexecMarker = "CHARNN_OPENBLAS_REEXEC"

    /// The environment OpenBLAS should have been loaded with, where it differs from what it has:
    /// - `OPENBLAS_CORETYPE` when OpenBLAS chose generic kernels on a CPU that runs better ones;
    /// - `OPENBLAS_THREAD_TIMEOUT=4`, so its worker threads sleep as soon as a product is done
    ///   instead of spinning for about 0.1 s (its default), which stole the second core from
    ///   charnn's own threads between OpenBLAS calls.
    /// Values the user set are never replaced.
    public static var preferredEnvironment: [(String, String)] {
        var wanted: [(String, String)] = []
        if getenv("OPENBLAS_CORETYPE") == nil, let core = betterCoreType { wanted.append(("OPENBLAS_CORETYPE", core)) }
        if getenv("OPENBLAS_THREAD_TIMEOUT") == nil { wanted.append(("OPENBLAS_THREAD_TIMEOUT", "4")) }
        return wanted
    }

    /// Re-executes the current program once with ``preferredEnvironment`` set, because OpenBLAS
    /// reads these variables only in its load-time constructor. Returns only if no re-exec was
    /// needed or possible; the marker variable stops a loop.
    public static func reexecWithPreferredEnvironmentIfNeeded(arguments: [String]) {
        let wanted = preferredEnvironment
        guard !wanted.isEmpty, getenv(reexecMarker) == nil else { return }
        for (name, value) in wanted { setenv(name, value, 1) }
        setenv(reexecMarker, "1", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // execv returned: carry on as loaded rather than fail.
        for pointer in argv { free(pointer) }
        for (name, _) in wanted { unsetenv(name) }
    }
}

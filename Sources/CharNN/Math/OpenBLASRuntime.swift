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
/// work (see ``reexecWithOptimizedCoreIfNeeded(arguments:)`` and docs/simd.md).
public enum OpenBLASRuntime {
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
    /// Never answers SkylakeX for a CPU without AVX-512: those kernels die with SIGILL there.
    public static var betterCoreType: String? {
        let generic = ["Prescott", "Core2", "Nehalem", "Katmai", "Coppermine", "Northwood", "Banias",
                       "Atom", "Penryn", "Dunnington", "unknown"]
        guard generic.contains(coreName) else { return nil }
        switch ck_cpu_simd_level() {
        case 1: return "SkylakeX"
        case 2: return "Haswell"
        default: return nil
        }
    }

    static let reexecMarker = "CHARNN_OPENBLAS_REEXEC"

    /// Re-executes the current program with `OPENBLAS_CORETYPE` set when OpenBLAS chose generic
    /// kernels on a CPU that runs better ones. Returns only if no re-exec was needed or possible.
    ///
    /// A value the user set is honoured and never replaced; the marker variable stops a loop if the
    /// re-executed process still reports a generic core.
    public static func reexecWithOptimizedCoreIfNeeded(arguments: [String]) {
        guard getenv("OPENBLAS_CORETYPE") == nil, getenv(reexecMarker) == nil,
              let core = betterCoreType else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(reexecMarker, "1", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // execv returned: carry on with the generic kernels rather than fail.
        for pointer in argv { free(pointer) }
        unsetenv("OPENBLAS_CORETYPE")
    }
}

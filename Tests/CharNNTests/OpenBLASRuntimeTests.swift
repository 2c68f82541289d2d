@_spi(Internals) import CharNN
import Foundation
import Testing

/// The decision behind charnn's one re-exec at start-up (OpenBLASRuntime): which core type it
/// asks OpenBLAS for, that a user's value wins, and that it never re-executes twice.
@Suite("OpenBLAS: the start-up re-exec", .timeLimit(.minutes(2)))
struct OpenBLASRuntimeTests {
    static func environment(_ values: [String: String]) -> (String) -> String? { { values[$0] } }

    @Test("a generic core is replaced by the widest family the CPU runs; a specific one is kept")
    func coreType() {
        #expect(OpenBLASRuntime.betterCoreType(coreName: "Prescott", simdLevel: 1) == "SkylakeX")
        #expect(OpenBLASRuntime.betterCoreType(coreName: "Prescott", simdLevel: 2) == "Haswell")
        #expect(OpenBLASRuntime.betterCoreType(coreName: "unknown", simdLevel: 2) == "Haswell")
        // No AVX2 + FMA: nothing better to ask for (SkylakeX or Haswell kernels would die with SIGILL).
        #expect(OpenBLASRuntime.betterCoreType(coreName: "Prescott", simdLevel: 0) == nil)
        for specific in ["Haswell", "Zen", "SkylakeX", "Sandybridge", "Cooperlake"] {
            #expect(OpenBLASRuntime.betterCoreType(coreName: specific, simdLevel: 1) == nil, "\(specific)")
        }
    }

    @Test("the plan sets what OpenBLAS lacks, never a value the user set, and nothing once re-executed")
    func plan() {
        func plan(_ values: [String: String], core: String = "Prescott", level: Int32 = 2) -> [String]? {
            OpenBLASRuntime.reexecPlan(environment: Self.environment(values), coreName: core, simdLevel: level)?.map { "\($0.0)=\($0.1)" }
        }
        let marker = OpenBLASRuntime.reexecMarker + "=1"
        #expect(plan([:]) == ["OPENBLAS_CORETYPE=Haswell", "OPENBLAS_THREAD_TIMEOUT=4", marker])
        #expect(plan([:], level: 1) == ["OPENBLAS_CORETYPE=SkylakeX", "OPENBLAS_THREAD_TIMEOUT=4", marker])
        #expect(plan([:], core: "Zen") == ["OPENBLAS_THREAD_TIMEOUT=4", marker])
        #expect(plan(["OPENBLAS_CORETYPE": "Sandybridge"]) == ["OPENBLAS_THREAD_TIMEOUT=4", marker])
        #expect(plan(["OPENBLAS_THREAD_TIMEOUT": "7"]) == ["OPENBLAS_CORETYPE=Haswell", marker])
        #expect(plan(["OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_THREAD_TIMEOUT": "7"]) == nil)
        // The re-executed process carries the marker: even if OpenBLAS ignored the core type and
        // still reports a generic one, it carries on instead of executing itself again.
        #expect(plan([OpenBLASRuntime.reexecMarker: "1"]) == nil)
        #expect(plan([OpenBLASRuntime.reexecMarker: "1"], level: 1) == nil)
    }

    /// `charnn doctor --json` run with exactly `environment` (plus PATH), decoded.
    static func doctor(_ environment: [String: String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = CharNNBinary.url
        process.arguments = ["doctor", "--json"]
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { a, _ in a }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("the binary re-executes once with the preferred values, keeps the user's, and not at all when marked")
    func binary() throws {
        // The time limit catches a loop: a re-exec that repeated forever would never print.
        let fresh = try Self.doctor([:])
        #expect(fresh["openblas_thread_timeout"] as? String == "4", "\(fresh)")
        let user = try Self.doctor(["OPENBLAS_THREAD_TIMEOUT": "7", "OPENBLAS_CORETYPE": "Sandybridge"])
        #expect(user["openblas_thread_timeout"] as? String == "7", "\(user)")
        #expect((user["openblas_core"] as? String)?.lowercased() == "sandybridge", "\(user)")
        let marked = try Self.doctor([OpenBLASRuntime.reexecMarker: "1"])
        #expect(marked["openblas_thread_timeout"] as? String == "default", "\(marked)")
    }
}

/// OpenBLAS's thread count is one setting for the whole process, and this suite holds it at another
/// value for 0.3 s and then reads it back. So scripts/test runs it apart from the parallel tests, with
/// the others that touch the count: beside `TrainingDataTests` its last check read the count that a
/// validation pass's `withThreads(1)` had set meanwhile.
@Suite("OpenBLAS: the thread count's lock", .timeLimit(.minutes(1)))
struct OpenBLASThreadCountTests {
    @Test("setThreads waits for a withThreads body under way on another thread, and leaves its count alone")
    func setThreadsWaitsForTheLock() {
        let found = OpenBLASRuntime.threads
        let held = found == 1 ? 2 : 1
        let started = DispatchSemaphore(value: 0), ended = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var seenAtEnd = 0
        Thread.detachNewThread {
            OpenBLASRuntime.withThreads(held) {
                started.signal()
                Thread.sleep(forTimeInterval: 0.3)  // long enough for the set below to land here, unlocked
                seenAtEnd = OpenBLASRuntime.threads
            }
            ended.signal()
        }
        started.wait()
        OpenBLASRuntime.setThreads(found)
        ended.wait()
        #expect(seenAtEnd == held, "the count changed under a withThreads body")
        #expect(OpenBLASRuntime.threads == found)
    }
}

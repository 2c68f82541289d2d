import CharNN
import CharNNServer
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("serve: cancellation, limits and shutdown", .timeLimit(.minutes(3)))
struct ServerStreamTests {
    /// Opens a stream of `length` symbols and reads until `symbols` symbol events have arrived.
    static func openStream(_ port: Int, length: Int, symbols: Int) async throws -> TestConnection {
        try await offPool {
            let connection = try TestConnection(port: port)
            try connection.sendRequest("POST", "/v1/generate", body: Array(#"{"length": \#(length), "seed": 1}"#.utf8))
            var received = ""
            while received.components(separatedBy: "event: symbol").count - 1 < symbols {
                let chunk = try connection.receive()
                guard !chunk.isEmpty else { throw HTTPTestError("the stream ended early: \(received)") }
                received += String(decoding: chunk, as: UTF8.self)
            }
            return connection
        }
    }

    /// Long enough that no stream here ends by itself while the test looks at it.
    static let endless = ServerConfiguration(port: 0, maxLength: 10_000_000)

    @Test("a client that disconnects mid-stream takes its generation out of the batch at once; the others go on")
    func disconnectCancels() async throws {
        try await withServer(configuration: Self.endless) { port, model, log in
            let leaving = try await Self.openStream(port, length: 10_000_000, symbols: 3)
            let staying = try await Self.openStream(port, length: 10_000_000, symbols: 3)
            #expect(model.activeGenerations == 2)
            leaving.close()
            #expect(await eventually(within: 10) { model.activeGenerations == 1 }, "still \(model.activeGenerations) running")
            // The other stream goes on.
            let more = try await offPool {
                var text = ""
                while text.components(separatedBy: "event: symbol").count < 100 { text += String(decoding: try staying.receive(), as: UTF8.self) }
                return text
            }
            #expect(more.contains(#""text":"#))
            #expect(model.activeGenerations == 1)
            staying.close()
            #expect(await eventually(within: 10) { model.activeGenerations == 0 })
            #expect(await eventually(within: 10) { log.all.filter { $0.hasSuffix("client went away") }.count == 2 }, "\(log.all)")
        }
    }

    @Test("with --max-streams generations running, one more gets 503 naming body, and a slot frees when one ends")
    func busy() async throws {
        var configuration = Self.endless
        configuration.maxStreams = 1
        try await withServer(configuration: configuration) { port, model, _ in
            let first = try await Self.openStream(port, length: 10_000_000, symbols: 1)
            let refused = try await request(port, "POST", "/v1/generate", body: #"{"length": 5}"#)
            let refusal = try refused.json()["error"] as? [String: String]
            #expect(refused.status == 503 && refusal?["field"] == "body", "\(refused.text)")
            first.close()
            #expect(await eventually(within: 10) { model.activeGenerations == 0 })
            let accepted = try await request(port, "POST", "/v1/generate", body: #"{"length": 5, "stream": false}"#)
            #expect(accepted.status == 200)
        }
    }

    @Test("concurrent streams each get their full length, in one batch")
    func concurrentStreams() async throws {
        try await withServer { port, model, _ in
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for seed in 0..<16 {
                    group.addTask {
                        let response = try await request(port, "POST", "/v1/generate", body: #"{"length": 300, "seed": \#(seed)}"#)
                        return events(in: response.text).filter { $0.event == "symbol" }.count
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(counts == [Int](repeating: 300, count: 16))
            #expect(model.symbolsGenerated == 16 * 300)
        }
    }
}

/// The `charnn` binary beside the test runner.
let charnnBinary: URL = {
    var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    while dir.path != "/" && !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("charnn").path) {
        dir = dir.deletingLastPathComponent()
    }
    return dir.appendingPathComponent("charnn")
}()

/// `charnn serve` started as a process on a free port; its port read from its log.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let errorPipe = Pipe()
    private(set) var port = 0
    private(set) var stderr = ""

    init(arguments: [String]) throws {
        process.executableURL = charnnBinary
        process.arguments = ["serve", "--port", "0", "--checkpoint", pretrainedPath] + arguments
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = errorPipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        while port == 0 && Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }
            stderr += String(decoding: data, as: UTF8.self)
            if let range = stderr.range(of: #"listening on http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
                port = Int(stderr[range].split(separator: ":").last!.dropLast()) ?? 0
            }
        }
        guard port > 0 else {
            process.terminate()
            throw HTTPTestError("charnn serve did not report a port: \(stderr)")
        }
    }

    /// The rest of standard error, once the process has exited.
    func finish() -> (status: Int32, stderr: String) {
        process.waitUntilExit()
        stderr += String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, stderr)
    }
}

@Suite("serve: the process", .timeLimit(.minutes(3)))
struct ServeProcessTests {
    @Test("SIGTERM drains: running streams end with a done event saying shutdown, no new connections, exit 0 within seconds")
    func sigtermDrains() async throws {
        let server = try ServeProcess(arguments: ["--max-length", "10000000"])
        let port = server.port
        let streams = try await withThrowingTaskGroup(of: TestConnection.self) { group in
            for _ in 0..<3 { group.addTask { try await ServerStreamTests.openStream(port, length: 10_000_000, symbols: 2) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let signalled = ContinuousClock.now
        kill(server.process.processIdentifier, SIGTERM)
        let (status, stderr) = try await offPool { server.finish() }
        let elapsed = ContinuousClock.now - signalled
        #expect(status == 0, "\(stderr)")
        #expect(elapsed < .seconds(5), "took \(elapsed)")
        #expect(stderr.contains("draining 3 stream(s)"), "\(stderr)")
        for stream in streams {
            let rest = try await offPool { String(decoding: try stream.receiveAll(timeout: 10), as: UTF8.self) }
            #expect(rest.contains("event: done") && rest.contains(#""reason":"shutdown""#), "\(rest.suffix(200))")
        }
        #expect(throws: HTTPTestError.self) { _ = try TestConnection(port: port) }
    }

    @Test("serve refuses bad options with one line, and a port in use with exit 1")
    func badOptions() async throws {
        let process = Process()
        process.executableURL = charnnBinary
        process.arguments = ["serve", "--port", "70000"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 64 && text.contains("--port must be from 0 to 65535, got 70000"), "\(text)")

        let first = try ServeProcess(arguments: [])
        let second = Process()
        second.executableURL = charnnBinary
        second.arguments = ["serve", "--port", String(first.port), "--checkpoint", pretrainedPath]
        let secondErrors = Pipe()
        second.standardError = secondErrors
        try second.run()
        second.waitUntilExit()
        let secondText = String(decoding: secondErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus == 1 && secondText.contains("charnn: error: cannot serve on 127.0.0.1:\(first.port)"), "\(secondText)")
        kill(first.process.processIdentifier, SIGTERM)
        #expect(first.finish().status == 0)
    }
}

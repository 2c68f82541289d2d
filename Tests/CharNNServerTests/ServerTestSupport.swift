import CharNN
import CharNNServer
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The pretrained 2×256 Shakespeare model committed in checkpoints/.
let pretrainedPath = repositoryRoot.appendingPathComponent("checkpoints/shakespeare.safetensors").path

/// The pretrained model, loaded once per test process.
let pretrainedCheckpoint: Checkpoint = try! Checkpoint.load(from: pretrainedPath)

/// Log lines a server wrote, kept for the tests to read.
final class CollectedLog: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
}

struct CollectingLogHandler: LogHandler {
    let log: CollectedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        log.lines.withLock { $0.append("\(event.message)") }
    }
}

/// Runs `body` against a server on an ephemeral loopback port, then stops the server.
func withServer<T>(configuration: ServerConfiguration = ServerConfiguration(port: 0), model: LanguageModel? = nil,
                   _ body: (_ port: Int, _ model: LanguageModel, _ log: CollectedLog) async throws -> T) async throws -> T {
    let model = try model ?? LanguageModel(checkpoint: pretrainedCheckpoint, maxConcurrentGenerations: configuration.maxStreams)
    let log = CollectedLog()
    let server = ModelServer(model: model, card: ModelCard(model: model), configuration: configuration,
                             logger: Logger(label: "test") { _ in CollectingLogHandler(log: log) })
    let (ports, portSink) = AsyncStream<Int>.makeStream()
    let task = Task { try await server.run(handlingSignals: false) { portSink.yield($0) } }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw HTTPTestError("the server never listened") }
    do {
        let result = try await body(port, model, log)
        task.cancel()
        _ = await task.result
        return result
    } catch {
        task.cancel()
        _ = await task.result
        throw error
    }
}

struct HTTPTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs blocking socket work on a thread of its own, never on the cooperative pool the server's
/// handlers need.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// One HTTP/1.1 connection to the server under test, over a plain blocking socket, so that tests
/// control exactly what is sent and when the connection closes.
final class TestConnection: @unchecked Sendable {
    private let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw HTTPTestError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(socket)
            throw HTTPTestError("cannot connect to port \(port): errno \(errno)")
        }
    }

    deinit { Glibc.close(socket) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw HTTPTestError("send failed: errno \(errno)") }
            offset += n
        }
    }

    /// Sends a request; `body` goes with a Content-Length unless `contentLength` overrides it.
    func sendRequest(_ method: String, _ path: String, body: [UInt8] = [], closing: Bool = true) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if !body.isEmpty || method == "POST" { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        if closing { head += "Connection: close\r\n" }
        try send(Array((head + "\r\n").utf8) + body)
    }

    /// Bytes that arrive within `timeout` seconds; empty at end of stream or timeout.
    func receive(timeout: Double = 30) throws -> [UInt8] {
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Everything until the server closes the connection.
    func receiveAll(timeout: Double = 60) throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try receive(timeout: timeout)
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Closes at once, as a client that goes away mid-response.
    func close() { shutdown(socket, Int32(SHUT_RDWR)) }
}

/// A parsed response: status, lower-cased header names, and the body with chunked framing removed.
struct TestResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw HTTPTestError("not a JSON object: \(text)")
        }
        return object
    }

    init(raw: [UInt8]) throws {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let split = raw.firstRange(of: separator) else { throw HTTPTestError("no header end in \(raw.count) bytes") }
        let headText = String(decoding: raw[..<split.lowerBound], as: UTF8.self)
        let lines = headText.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw HTTPTestError("bad status line \(lines[0])") }
        self.status = status
        headers = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let rest = Array(raw[split.upperBound...])
        body = headers["transfer-encoding"] == "chunked" ? Self.dechunk(rest) : rest
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], index = 0
        while let lineEnd = bytes[index...].firstRange(of: Array("\r\n".utf8)),
              let size = Int(String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self), radix: 16), size > 0 {
            let start = lineEnd.upperBound
            out += bytes[start..<min(start + size, bytes.count)]
            index = min(start + size + 2, bytes.count)
        }
        return out
    }
}

/// One request on a fresh connection, read to the end.
func request(_ port: Int, _ method: String, _ path: String, body: String? = nil) async throws -> TestResponse {
    try await request(port, method, path, bytes: body.map { Array($0.utf8) } ?? [])
}

func request(_ port: Int, _ method: String, _ path: String, bytes: [UInt8]) async throws -> TestResponse {
    try await offPool {
        let connection = try TestConnection(port: port)
        try connection.sendRequest(method, path, body: bytes)
        return try TestResponse(raw: try connection.receiveAll())
    }
}

/// Server-Sent Events in a body: (event, data) pairs.
func events(in body: String) -> [(event: String, data: String)] {
    body.components(separatedBy: "\n\n").compactMap { block in
        var event = "message", data = ""
        for line in block.split(separator: "\n") {
            if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) } else if line.hasPrefix("data: ") { data += line.dropFirst(6) }
        }
        return data.isEmpty ? nil : (event, data)
    }
}

/// The text of a JSON object's string field.
func jsonField(_ data: String, _ key: String) -> Any? {
    (try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])?[key]
}

/// Polls `condition` every 10 ms for up to `seconds`.
func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

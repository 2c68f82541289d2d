import CharNN
import CharNNServer
import Foundation
import Testing

@Suite("serve: bad input gets a 4xx naming the field, and the server keeps serving", .timeLimit(.minutes(3)))
struct ServerBadInputTests {
    /// (path, body, status, field).
    static let rows: [(String, String, Int, String)] = [
        ("/v1/generate", #"{"prime": "a""#, 400, "body"),             // malformed JSON
        ("/v1/generate", "not json", 400, "body"),
        ("/v1/generate", "[1, 2]", 400, "body"),                       // not an object
        ("/v1/generate", #"{"length": "ten"}"#, 400, "length"),         // wrong types
        ("/v1/generate", #"{"length": 2.5}"#, 400, "length"),
        ("/v1/generate", #"{"prime": 5}"#, 400, "prime"),
        ("/v1/generate", #"{"temperature": true}"#, 400, "temperature"),
        ("/v1/generate", #"{"stream": "yes"}"#, 400, "stream"),
        ("/v1/generate", #"{"seed": "7"}"#, 400, "seed"),
        ("/v1/generate", #"{"top_k": [3]}"#, 400, "top_k"),
        ("/v1/generate", #"{"colour": "blue"}"#, 400, "colour"),       // unknown field
        ("/v1/generate", #"{"length": 5, "topK": 3}"#, 400, "topK"),
        ("/v1/generate", #"{"length": 2001}"#, 400, "length"),          // over the cap
        ("/v1/generate", #"{"length": -1}"#, 400, "length"),
        ("/v1/generate", #"{"temperature": 0}"#, 400, "temperature"),  // out of range
        ("/v1/generate", #"{"temperature": -0.5}"#, 400, "temperature"),
        ("/v1/generate", #"{"temperature": 1000}"#, 400, "temperature"),
        ("/v1/generate", #"{"top_k": 0}"#, 400, "top_k"),
        ("/v1/generate", #"{"top_p": 0}"#, 400, "top_p"),
        ("/v1/generate", #"{"top_p": 1.5}"#, 400, "top_p"),
        ("/v1/generate", #"{"seed": -1}"#, 400, "seed"),
        ("/v1/generate", #"{"prime": "snow ☃ and 雪"}"#, 400, "prime"),  // unknown prime symbols
        ("/v1/score", "{}", 400, "text"),
        ("/v1/score", #"{"text": 1}"#, 400, "text"),
        ("/v1/score", #"{"text": "a", "prime": "b"}"#, 400, "prime"),
        ("/v1/score", "{", 400, "body"),
    ]

    @Test("each bad request: its status, a JSON error naming the field, and a one-line message")
    func badRequests() async throws {
        try await withServer { port, model, _ in
            for (path, body, status, field) in Self.rows {
                let response = try await request(port, "POST", path, body: body)
                #expect(response.status == status, "\(path) \(body): \(response.status) \(response.text)")
                #expect(response.headers["content-type"] == "application/json", "\(body)")
                let error = try response.json()["error"] as? [String: String]
                #expect(error?["field"] == field, "\(body): \(response.text)")
                let message = error?["message"] ?? ""
                #expect(!message.isEmpty && !message.contains("\n") && message.contains(field == "body" ? "body" : field),
                        "\(body): \(message)")
            }
            // Unknown prime symbols are named in the message.
            let unknown = try await request(port, "POST", "/v1/generate", body: #"{"prime": "snow ☃"}"#).json()
            #expect(((unknown["error"] as? [String: String])?["message"] ?? "").contains("☃"))
            // skip_unknown leaves them out instead, and says which.
            let skipped = try await request(port, "POST", "/v1/generate",
                                            body: #"{"prime": "snow ☃", "length": 5, "stream": false, "skip_unknown": true}"#).json()
            #expect(skipped["dropped_prime_symbols"] as? [String] == ["☃"] && skipped["symbols"] as? Int == 5)
            #expect(try await request(port, "GET", "/healthz").status == 200)
            #expect(model.activeGenerations == 0)
        }
    }

    @Test("a body over the limit gets 413 naming body, whether or not it declares its length")
    func bodyOverLimit() async throws {
        try await withServer(configuration: ServerConfiguration(port: 0, maxBodyBytes: 1024)) { port, _, _ in
            let big = #"{"prime": ""# + String(repeating: "a", count: 4000) + #""}"#
            let declared = try await request(port, "POST", "/v1/generate", body: big)
            #expect(declared.status == 413, "\(declared.text)")
            let refusal = try declared.json()["error"] as? [String: String]
            #expect(refusal?["field"] == "body")
            // Chunked, with no Content-Length: the limit applies as the body arrives.
            let chunked = try await offPool {
                let connection = try TestConnection(port: port)
                let head = "POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                let chunk = String(big.utf8.count, radix: 16) + "\r\n" + big + "\r\n0\r\n\r\n"
                try connection.send(Array((head + chunk).utf8))
                return try TestResponse(raw: try connection.receiveAll())
            }
            #expect(chunked.status == 413, "\(chunked.text)")
            #expect(try await request(port, "GET", "/healthz").status == 200)
        }
    }
}

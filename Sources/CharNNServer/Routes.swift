import CharNN
import Foundation
import Hummingbird

/// The endpoints: each handler turns a request into a call on the shared ``LanguageModel``.
struct Routes: Sendable {
    let model: LanguageModel
    let card: ModelCard
    let configuration: ServerConfiguration
    let counters: ServerCounters

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: Page.html)))
        }
        router.get("/healthz") { _, _ in json(["status": "ok"]) }
        router.get("/v1/model") { _, _ in json(ModelResponse(model: card, limits: limits, counters: currentCounters)) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: prometheusText)))
        }
        router.post("/v1/generate") { request, _ in
            await respond { () throws(RequestError) in try await generate(request) }
        }
        router.post("/v1/score") { request, _ in
            await respond { () throws(RequestError) in try await score(request) }
        }
    }

    var limits: ModelResponse.Limits {
        .init(maxLength: configuration.maxLength, maxBodyBytes: configuration.maxBodyBytes,
              maxTextBytes: configuration.maxTextBytes, maxStreams: configuration.maxStreams)
    }

    var currentCounters: ModelResponse.Counters {
        .init(requests: counters.requestCount, refusedRequests: counters.refusedCount,
              symbolsGenerated: model.symbolsGenerated, activeStreams: model.activeGenerations)
    }

    /// The counters in Prometheus's text format.
    var prometheusText: String {
        let c = currentCounters
        return """
            # HELP charnn_requests_total HTTP requests answered.
            # TYPE charnn_requests_total counter
            charnn_requests_total \(c.requests)
            # HELP charnn_refused_requests_total Requests answered with a 4xx or 5xx status.
            # TYPE charnn_refused_requests_total counter
            charnn_refused_requests_total \(c.refusedRequests)
            # HELP charnn_symbols_generated_total Symbols generated over all streams.
            # TYPE charnn_symbols_generated_total counter
            charnn_symbols_generated_total \(c.symbolsGenerated)
            # HELP charnn_active_streams Generations running now.
            # TYPE charnn_active_streams gauge
            charnn_active_streams \(c.activeStreams)

            """
    }

    /// Runs a handler, turning a refusal into its JSON error response.
    private func respond(_ handler: () async throws(RequestError) -> Response) async -> Response {
        do { return try await handler() } catch { return errorResponse(error) }
    }

    /// The body as one JSON object, within the size limit.
    private func fields(of request: inout Request) async throws(RequestError) -> [String: JSONValue] {
        let limit = configuration.maxBodyBytes
        let tooLarge = RequestError(status: 413, field: "body", message: "body is over the limit of \(limit) bytes")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: limit) } catch { throw tooLarge }
        return try JSONValue.object(from: Data(buffer.readableBytesView))
    }

    private func generate(_ request: Request) async throws(RequestError) -> Response {
        var request = request
        let parsed = try GenerateRequest(fields: try await fields(of: &request), configuration: configuration)
        let seed = parsed.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let symbols: GeneratedText
        do {
            symbols = try model.generate(prime: parsed.prime, length: parsed.length, options: parsed.options,
                                         seed: seed, skipUnknown: parsed.skipUnknown)
        } catch let error as SamplingError {
            if case .unknownPrimeSymbols = error {
                throw RequestError(field: "prime", message: error.describe(naming: { $0 == "skipUnknown" ? "skip_unknown: true" : $0 }))
            }
            throw RequestError(field: "body", message: error.description)
        } catch let error as GenerationError {
            throw RequestError(status: 503, field: "body", message: error.description)
        } catch {
            throw RequestError(status: 500, field: "body", message: "\(error)")
        }
        // A client that closes its side of the connection cancels the task reading the
        // generation, which takes it out of the batch before its next symbol, even while a write
        // waits for a slow reader.
        let body = request.body
        guard parsed.stream else {
            let result = try? await body.consumeWithCancellationOnInboundClose { _ in
                var text = "", count = 0, reason = "length"
                do {
                    for try await symbol in symbols {
                        text += symbol
                        count += 1
                    }
                } catch is GenerationError { reason = "shutdown" }
                return GenerateResponse(text: text, symbols: count, seed: seed, reason: reason,
                                        droppedPrimeSymbols: symbols.droppedPrimeSymbols)
            }
            guard let result else { throw RequestError(status: 499, field: "body", message: "the client closed the connection") }
            return json(result)
        }
        let start = ServerEvents.event("start", """
            {"seed":\(seed),"dropped_prime_symbols":[\(symbols.droppedPrimeSymbols.map(jsonString).joined(separator: ","))]}
            """)
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                try await writer.write(start)
                let (count, reason) = try await body.consumeWithCancellationOnInboundClose { _ in
                    var count = 0, reason = "length"
                    do {
                        for try await symbol in symbols {
                            try await writer.write(ServerEvents.symbol(symbol))
                            count += 1
                        }
                    } catch is GenerationError {
                        reason = "shutdown"
                    }
                    return (count, reason)
                }
                try await writer.write(ServerEvents.event("done", #"{"symbols":\#(count),"reason":"\#(reason)"}"#))
                try await writer.finish(nil)
            })
    }

    private func score(_ request: Request) async throws(RequestError) -> Response {
        var request = request
        let parsed = try ScoreRequest(fields: try await fields(of: &request), configuration: configuration)
        let result: ScoreResult
        do { result = try model.score(parsed.text) } catch {
            throw RequestError(field: "text", message: "text cannot be scored: \(error)")
        }
        let nats = result.symbols > 0 ? result.natsPerSymbol : nil
        return json(ScoreResponse(natsPerChar: nats, bitsPerChar: nats.map { $0 / M_LN2 }, symbols: result.symbols,
                                  unknownSymbols: result.unknown))
    }
}

/// Server-Sent Events framing: one event per symbol, its data a JSON object.
enum ServerEvents {
    static func event(_ name: String, _ data: String) -> ByteBuffer {
        ByteBuffer(string: "event: \(name)\ndata: \(data)\n\n")
    }

    static func symbol(_ text: String) -> ByteBuffer {
        ByteBuffer(string: "event: symbol\ndata: {\"text\":\(jsonString(text))}\n\n")
    }
}

/// A JSON response, keys in snake case and sorted.
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"field":"body","message":"response could not be encoded"}}"#.utf8)
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// `{"error": {"field": …, "message": …}}` with the refusal's status.
func errorResponse(_ error: RequestError) -> Response {
    json(["error": ["field": error.field, "message": error.message]], status: .init(code: error.status))
}

struct ModelResponse: Encodable {
    struct Limits: Encodable {
        var maxLength: Int
        var maxBodyBytes: Int
        var maxTextBytes: Int
        var maxStreams: Int
    }
    struct Counters: Encodable {
        var requests: Int
        var refusedRequests: Int
        var symbolsGenerated: Int
        var activeStreams: Int
    }
    var model: ModelCard
    var limits: Limits
    var counters: Counters
}

struct GenerateResponse: Encodable {
    var text: String
    var symbols: Int
    var seed: UInt64
    var reason: String
    var droppedPrimeSymbols: [String]
}

struct ScoreResponse: Encodable {
    var natsPerChar: Double?
    var bitsPerChar: Double?
    var symbols: Int
    var unknownSymbols: Int

    func encode(to encoder: any Encoder) throws {
        // Written out so that an empty text's nats are null rather than absent.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(natsPerChar, forKey: .natsPerChar)
        try container.encode(bitsPerChar, forKey: .bitsPerChar)
        try container.encode(symbols, forKey: .symbols)
        try container.encode(unknownSymbols, forKey: .unknownSymbols)
    }

    enum CodingKeys: String, CodingKey { case natsPerChar, bitsPerChar, symbols, unknownSymbols }
}

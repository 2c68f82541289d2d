import CharNN
import CharNNServer
import Foundation
import Testing

@Suite("serve: endpoints", .timeLimit(.minutes(3)))
struct ServerEndpointTests {
    @Test("GET /healthz, /v1/model and /metrics answer, and each request is one log line")
    func infoEndpoints() async throws {
        try await withServer { port, _, log in
            let health = try await request(port, "GET", "/healthz")
            #expect(health.status == 200 && health.text == #"{"status":"ok"}"#)
            let info = try await request(port, "GET", "/v1/model")
            #expect(info.status == 200 && info.headers["content-type"] == "application/json")
            let object = try info.json()
            let model = try #require(object["model"] as? [String: Any])
            #expect(model["cell"] as? String == "lstm" && model["layers"] as? Int == 2 && model["hidden_size"] as? Int == 256)
            #expect(model["vocabulary_size"] as? Int == pretrainedCheckpoint.model.config.vocabularySize)
            #expect(model["precision"] as? String == SamplingPrecision.samplingDefault.rawValue)
            let counters = try #require(object["counters"] as? [String: Any])
            #expect(counters["requests"] as? Int == 1, "the health check was counted")
            let limits = try #require(object["limits"] as? [String: Any])
            #expect(limits["max_length"] as? Int == ServerConfiguration().maxLength)
            let metrics = try await request(port, "GET", "/metrics")
            #expect(metrics.status == 200 && metrics.text.contains("charnn_requests_total 2\n"), "\(metrics.text)")
            let lines = log.all.filter { $0.hasPrefix("GET ") }
            #expect(lines.count == 3, "\(log.all)")
            #expect(lines.first?.hasPrefix("GET /healthz 200 ") == true, "\(lines)")
        }
    }

    @Test("GET / is one self-contained page with the controls")
    func page() async throws {
        try await withServer { port, _, _ in
            let page = try await request(port, "GET", "/")
            #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
            for control in [#"id="prime""#, #"id="temperature""#, #"id="top-p""#, #"id="length""#, #"id="generate""#, #"id="stop""#, #"id="card""#] {
                #expect(page.text.contains(control), "\(control)")
            }
            // Nothing loaded from elsewhere: no src or href attribute, no @import, no url(…).
            for external in ["src=", "href=", "@import", "url("] { #expect(!page.text.contains(external), "\(external)") }
        }
    }

    @Test("POST /v1/generate streams start, one event per symbol and done; the same seed without streaming gives the same text")
    func generate() async throws {
        try await withServer { port, model, log in
            let streamed = try await request(port, "POST", "/v1/generate",
                                             body: #"{"prime": "ROMEO:", "length": 60, "temperature": 0.8, "seed": 42}"#)
            #expect(streamed.status == 200 && streamed.headers["content-type"] == "text/event-stream")
            let all = events(in: streamed.text)
            #expect(all.first?.event == "start" && jsonField(all[0].data, "seed") as? Int == 42)
            let symbols = all.filter { $0.event == "symbol" }.compactMap { jsonField($0.data, "text") as? String }
            #expect(symbols.count == 60)
            #expect(all.last?.event == "done" && jsonField(all.last!.data, "reason") as? String == "length")
            #expect(jsonField(all.last!.data, "symbols") as? Int == 60)

            let whole = try await request(port, "POST", "/v1/generate",
                                          body: #"{"prime": "ROMEO:", "length": 60, "temperature": 0.8, "seed": 42, "stream": false}"#)
            let object = try whole.json()
            #expect(whole.status == 200 && object["text"] as? String == symbols.joined())
            #expect(object["symbols"] as? Int == 60 && object["reason"] as? String == "length")
            // The library's sampler, one stream, the same seed: the same text.
            let sampler = try Sampler(model: pretrainedCheckpoint.model, tokenizer: pretrainedCheckpoint.tokenizer,
                                      options: SamplingOptions(temperature: 0.8), prime: "ROMEO:", seed: 42)
            #expect(Array(sampler.prefix(60)).joined() == symbols.joined())
            #expect(model.symbolsGenerated == 120)
            #expect(log.all.contains { $0.hasPrefix("POST /v1/generate 200 ") })
        }
    }

    @Test("POST /v1/score gives nats and bits per character, symbols and unknown symbols")
    func score() async throws {
        try await withServer { port, model, _ in
            let text = "To be, or not to be, that is the question."
            let response = try await request(port, "POST", "/v1/score", body: #"{"text": "\#(text)"}"#)
            let object = try response.json()
            let expected = try model.score(text)
            #expect(response.status == 200)
            #expect(object["symbols"] as? Int == expected.symbols && object["unknown_symbols"] as? Int == 0)
            let nats = try #require(object["nats_per_char"] as? Double)
            #expect(abs(nats - expected.natsPerSymbol) < 1e-9, "\(nats) against \(expected.natsPerSymbol)")
            #expect(nats > 0.05 && nats < 4, "\(nats)")
            #expect(abs((object["bits_per_char"] as? Double ?? 0) - nats / log(2)) < 1e-9)
            let empty = try await request(port, "POST", "/v1/score", body: #"{"text": ""}"#).json()
            #expect(empty["nats_per_char"] is NSNull && empty["symbols"] as? Int == 0)
        }
    }
}

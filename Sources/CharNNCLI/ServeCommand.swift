import ArgumentParser
import CharNN
import CharNNServer
import Dispatch
import Foundation
import Logging

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over HTTP: streamed generation, scoring, and a page to try it in a browser.",
        discussion: """
            Loads one checkpoint (chosen as `charnn sample` chooses it) and answers on \
            http://HOST:PORT/ until SIGTERM or Ctrl-C. It listens on loopback (127.0.0.1) unless \
            --host names another address; --host 0.0.0.0 serves every network the machine is on.

            ENDPOINTS
              GET  /             a page with a prime box, temperature, top-p and length controls,
                                 Generate and Stop, the text as it streams, and the model card
              POST /v1/generate  {"prime", "length", "temperature", "top_k", "top_p", "seed",
                                 "stream", "skip_unknown"}, all optional. Streams Server-Sent
                                 Events: start {seed}, one symbol {text} per symbol, then done
                                 {symbols, reason}; with "stream": false, one JSON object
                                 {text, symbols, seed, reason}
              POST /v1/score     {"text"}: nats_per_char, bits_per_char, symbols, unknown_symbols
              GET  /v1/model     the model card, the limits, and request and symbol counters
              GET  /metrics      the same counters in Prometheus's text format
              GET  /healthz      {"status": "ok"}

            A request the server refuses gets a 4xx status and {"error": {"field", "message"}} \
            naming the field at fault (413 for a body over --max-body; 503 with --max-streams \
            generations running, or while shutting down). The same seed and settings give the \
            same text as `charnn sample --seed` while the generation runs alone.

            All running generations advance together, one batched step per symbol (continuous \
            batching): a new one joins at the next step, and one whose client disconnects leaves \
            at once. One log line per request goes to standard error.

            SIGTERM or SIGINT drains: the server stops accepting connections, every running \
            stream ends at its next symbol with a done event whose reason is "shutdown", and \
            charnn exits with status 0.
            """
    )

    @Option(parsing: .unconditional, help: ArgumentHelp("The checkpoint to serve (default: the newest checkpoints/**/best.safetensors, else the pretrained model).", valueName: "path"))
    var checkpoint: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("The address to listen on.", valueName: "address"))
    var host = ServerConfiguration().host
    @Option(parsing: .unconditional, help: ArgumentHelp("The TCP port; 0 takes any free port (the log names it).", valueName: "n"))
    var port = ServerConfiguration().port
    @Option(name: .customLong("max-length"), parsing: .unconditional, help: ArgumentHelp("The largest length a request may ask for, in symbols.", valueName: "n"))
    var maxLength = ServerConfiguration().maxLength
    @Option(name: .customLong("max-streams"), parsing: .unconditional, help: ArgumentHelp("Generations that may run at once (the batch's size).", valueName: "n"))
    var maxStreams = ServerConfiguration().maxStreams
    @Option(name: .customLong("max-body"), parsing: .unconditional, help: ArgumentHelp("The largest request body, in bytes.", valueName: "bytes"))
    var maxBody = ServerConfiguration().maxBodyBytes
    @Option(parsing: .unconditional, help: ArgumentHelp("Number format of the weights: float32, bfloat16 or int8, as for `charnn sample`; the default is the fastest for this CPU: bfloat16 with AVX-512, int8 with AVX2, else float32.", valueName: "format"))
    var precision = SamplingPrecision.samplingDefault

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, got \(port)") }
        guard maxLength >= 1 else { throw ValidationError("--max-length must be at least 1, got \(maxLength)") }
        guard (1...4096).contains(maxStreams) else { throw ValidationError("--max-streams must be from 1 to 4096, got \(maxStreams)") }
        guard maxBody >= 256 else { throw ValidationError("--max-body must be at least 256 bytes, got \(maxBody)") }
        guard !host.isEmpty else { throw ValidationError("--host must name an address, e.g. 127.0.0.1") }
    }

    func run() throws {
        try reportingErrors {
            let path = try resolveCheckpoint(checkpoint)
            let checkpoint = try Checkpoint.load(from: path)
            let model = try LanguageModel(checkpoint: checkpoint, precision: precision, maxConcurrentGenerations: maxStreams)
            let card = ModelCard(model: model, info: try? CheckpointInfo.inspect(path: path))
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .info
                return handler
            }
            let configuration = ServerConfiguration(host: host, port: port, maxLength: maxLength, maxBodyBytes: maxBody,
                                                    maxStreams: maxStreams, maxTextBytes: min(maxBody, ServerConfiguration().maxTextBytes))
            let server = ModelServer(model: model, card: card, configuration: configuration, logger: Logger(label: "charnn.serve"))
            let failure = ServeFailure()
            let done = DispatchSemaphore(value: 0)
            Task {
                do { try await server.run() } catch { failure.set("cannot serve on \(host):\(port): \(error)") }
                done.signal()
            }
            done.wait()
            if let message = failure.message { throw CLIError(message) }
        }
    }
}

/// The error that ended the server task, handed to the blocked main thread.
private final class ServeFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ message: String) { lock.withLock { stored = message } }
    var message: String? { lock.withLock { stored } }
}

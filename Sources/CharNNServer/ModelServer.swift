import CharNN
import Dispatch
import Hummingbird
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// `charnn serve`: the HTTP server over one ``LanguageModel``.
///
/// Endpoints: `POST /v1/generate` (Server-Sent Events, or one JSON object with `"stream": false`),
/// `POST /v1/score`, `GET /v1/model`, `GET /healthz`, `GET /metrics` (Prometheus text) and `GET /`
/// (the page). Every generation runs in the model's one batch (continuous batching). A refused
/// request gets a 4xx (503 when busy or shutting down) and `{"error": {"field", "message"}}`.
public struct ModelServer: Sendable {
    /// The model served.
    public let model: LanguageModel
    /// What `GET /v1/model` reports.
    public let card: ModelCard
    /// Address, port and limits.
    public let configuration: ServerConfiguration
    private let logger: Logger
    private let counters = ServerCounters()

    /// A server for `model`; nothing listens until ``run(handlingSignals:onListening:)``.
    public init(model: LanguageModel, card: ModelCard, configuration: ServerConfiguration, logger: Logger) {
        self.model = model
        self.card = card
        self.configuration = configuration
        self.logger = logger
    }

    /// Listens and serves until the task is cancelled or, with `handlingSignals`, until SIGTERM or
    /// SIGINT. A signal drains: the listening socket closes, running generations end at their
    /// next symbol with a final `done` event whose reason is `shutdown`, and this returns once
    /// their responses are out. `onListening` receives the bound port (useful with port 0).
    public func run(handlingSignals: Bool = true, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router()
        router.middlewares.add(RequestLogMiddleware(logger: logger, counters: counters))
        Routes(model: model, card: card, configuration: configuration, counters: counters).register(on: router)
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("listening on http://\(Self.urlHost(channel.localAddress?.ipAddress ?? "?")):\(port)/")
                await onListening(port)
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let model = self.model
        var sources: [any DispatchSourceSignal] = []
        if handlingSignals {
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    logger.notice("signal \(number): draining \(model.activeGenerations) stream(s) and shutting down")
                    // Streams end with their final event first; the server then stops listening
                    // and waits for those responses to go out.
                    model.drain()
                    Task { await group.triggerGracefulShutdown() }
                }
                source.resume()
                sources.append(source)
            }
        }
        defer { for source in sources { source.cancel() } }
        try await group.run()
    }

    private static func urlHost(_ address: String) -> String { address.contains(":") ? "[\(address)]" : address }
}

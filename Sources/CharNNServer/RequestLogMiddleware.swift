import Hummingbird
import Logging

/// Writes one log line per request once its response is fully sent (a streamed generation's when
/// its last event is out): method, path, status and time taken. Also counts the request.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let counters: ServerCounters

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let method = request.method.rawValue, path = request.uri.path
        let logger = self.logger, counters = self.counters
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            counters.record(status: Int(error.status.code))
            logger.info("\(method) \(path) \(error.status.code) \(Self.milliseconds(since: start)) ms")
            throw error
        }
        let status = Int(response.status.code)
        counters.record(status: status)
        let body = response.body
        response.body = ResponseBody { writer in
            do {
                try await body.write(writer)
                logger.info("\(method) \(path) \(status) \(Self.milliseconds(since: start)) ms")
            } catch {
                logger.info("\(method) \(path) \(status) \(Self.milliseconds(since: start)) ms, client went away")
                throw error
            }
        }
        return response
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return String(Int(ms.rounded()))
    }
}

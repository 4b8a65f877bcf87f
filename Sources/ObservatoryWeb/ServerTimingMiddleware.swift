import HTTPTypes
import Hummingbird

/// Adds `Server-Timing: app;dur=<ms>` to every dashboard and read-API answer: the time the
/// server spent building it, database included. Browser developer tools show it, and
/// `observatory-bench query` reads it to report server time apart from the network.
struct ServerTimingMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let clock = ContinuousClock()
        let started = clock.now
        var response = try await next(request, context)
        let elapsed = started.duration(to: clock.now)
        let milliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        response.headers[.serverTiming] = "app;dur=\((milliseconds * 1_000).rounded() / 1_000)"
        return response
    }
}

extension HTTPField.Name {
    static let serverTiming = Self("Server-Timing")!
}

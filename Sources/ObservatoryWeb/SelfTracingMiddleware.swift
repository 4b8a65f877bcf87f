import Hummingbird
import ObservatoryIngest
import ObservatoryTracing
import Tracing

/// Keeps requests to excluded paths (`OBSERVABILITY_EXCLUDE_PATHS`) out of self-tracing
/// altogether: the rest of the chain runs in a context marked suppressed, so neither the
/// HTTP span nor any DB span under it is recorded. Placed before Hummingbird's
/// `TracingMiddleware`, which then starts a span that records nothing.
public struct SelfTracingExclusionMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: TracePolicy

    public init(policy: TracePolicy) {
        self.policy = policy
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard policy.excludes(path: request.uri.path) else {
            return try await next(request, context)
        }
        var suppressed = InstrumentationContext.current ?? .topLevel
        suppressed.tracingSuppressed = true
        return try await InstrumentationContext.$current.withValue(suppressed) {
            try await next(request, context)
        }
    }
}

/// What `serve` traces of its own HTTP work, as configured.
public struct SelfTracingSettings: Sendable {
    /// `OBSERVABILITY_EXCLUDE_PATHS`: requests whose path matches leave no span.
    public var policy: TracePolicy
    /// `OBSERVABILITY_TRACE_HTTP_REQUESTS`: an HTTP server span per request.
    public var traceHTTPRequests: Bool

    public init(policy: TracePolicy, traceHTTPRequests: Bool) {
        self.policy = policy
        self.traceHTTPRequests = traceHTTPRequests
    }
}

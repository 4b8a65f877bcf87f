import Hummingbird
import ObservatoryIngest
import ObservatoryTracing
import Tracing

/// Keeps requests to excluded paths (`OBSERVABILITY_EXCLUDE_PATHS`), and ingestion
/// unless `OBSERVABILITY_TRACE_INGEST_REQUESTS` is on, out of self-tracing altogether: the
/// rest of the chain runs in a context marked suppressed, so neither the HTTP span nor
/// any DB span under it is recorded. Placed before Hummingbird's `TracingMiddleware`,
/// which then starts a span that records nothing.
public struct SelfTracingExclusionMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: TracePolicy
    /// Paths left out besides the policy's: ingestion's, when it is not traced.
    let untracedPaths: Set<String>

    public init(policy: TracePolicy, untracedPaths: Set<String> = []) {
        self.policy = policy
        self.untracedPaths = untracedPaths
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard untracedPaths.contains(path) || policy.excludes(path: path) else {
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
    /// `OBSERVABILITY_TRACE_INGEST_REQUESTS`: ingestion requests are traced too.
    public var traceIngestRequests: Bool

    public init(policy: TracePolicy, traceHTTPRequests: Bool, traceIngestRequests: Bool = false) {
        self.policy = policy
        self.traceHTTPRequests = traceHTTPRequests
        self.traceIngestRequests = traceIngestRequests
    }
}

import Foundation
import ObservatoryDemo
import ObservatoryOTLP

/// Small gateway spans, the shape where the service's fixed cost per span matters most:
/// four spans a trace (the HTTP server span of `POST /mcp`, its `tools/call`, an HTTP
/// client call and a database query), three or four attributes each, from four gateway
/// processes whose resources carry the eight keys real SDKs send (about 280 bytes).
///
/// `DemoTraffic` is the other shape: richer MCP spans with more attributes. Benchmarks
/// run both, since a fixed cost per span and a cost per byte move the ratio to `COPY`
/// in opposite directions.
struct GatewayTraffic {
    typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    typealias Span = Opentelemetry_Proto_Trace_V1_Span

    static let spansPerTrace = 4
    static let tools = [
        "search_docs", "get_weather", "create_issue", "list_files", "read_file", "run_query", "send_email", "translate",
    ]

    private var rng: SplitMix64
    private var traceNumber: UInt64 = 0
    private let startUnixNano: UInt64
    private let spacingNanos: UInt64
    private let resources: [Opentelemetry_Proto_Resource_V1_Resource]

    init(seed: UInt64, startUnixNano: UInt64, spacingNanos: UInt64 = 2_000_000) {
        rng = SplitMix64(seed: seed)
        self.startUnixNano = startUnixNano
        self.spacingNanos = spacingNanos
        resources = (0..<4).map { replica in
            var resource = Opentelemetry_Proto_Resource_V1_Resource()
            resource.attributes = [
                .string("service.name", "mcp-gateway"),
                .string("service.version", "0.9.3"),
                .string("service.instance.id", "gateway-\(replica)-7f9c2d4e-1b3a-4c5d-8e6f-0a1b2c3d4e5f"),
                .string("host.name", "gateway-\(replica).prod.internal"),
                .int("process.pid", 4_100 + replica),
                .string("telemetry.sdk.name", "opentelemetry"),
                .string("telemetry.sdk.language", "python"),
                .string("telemetry.sdk.version", "1.38.0"),
                .string("deployment.environment.name", "production"),
            ]
            return resource
        }
    }

    /// An export of `traces` traces from one replica, as a batching exporter sends it.
    mutating func makeRequest(traces: Int) -> Request {
        let replica = Int(random() % UInt64(resources.count))
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scope.scope.name = "mcpgateway"
        scope.scope.version = "0.9.3"
        scope.spans.reserveCapacity(traces * Self.spansPerTrace)
        for _ in 0..<traces { scope.spans += nextTrace() }
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource = resources[replica]
        resourceSpans.scopeSpans = [scope]
        var request = Request()
        request.resourceSpans = [resourceSpans]
        return request
    }

    private mutating func nextTrace() -> [Span] {
        let start = startUnixNano + traceNumber * spacingNanos
        traceNumber += 1
        var traceID = Data(count: 16)
        traceID.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: random(), toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: random(), toByteOffset: 8, as: UInt64.self)
        }
        let tool = Self.tools[Int(random() % UInt64(Self.tools.count))]
        let failed = random() % 50 == 0
        let total = 2_000_000 + random() % 80_000_000

        var root = span(traceID, parent: nil, name: "POST /mcp", kind: .server, start: start, nanos: total)
        root.attributes = [
            .string("http.request.method", "POST"), .string("url.path", "/mcp"),
            .string("http.route", "/mcp"), .int("http.response.status_code", 200),
        ]
        var call = span(
            traceID, parent: root.spanID, name: "tools/call \(tool)", kind: .internal, start: start + 200_000,
            nanos: total - 400_000)
        call.attributes = [
            .string("mcp.method.name", "tools/call"), .string("gen_ai.tool.name", tool),
            .string("mcp.session.id", "session-\(random() % 64)"),
        ]
        if failed {
            call.status.code = .error
            call.status.message = "upstream timed out"
        }
        var http = span(
            traceID, parent: call.spanID, name: "GET", kind: .client, start: start + 400_000, nanos: (total - 800_000) / 2)
        http.attributes = [
            .string("http.request.method", "GET"),
            .string("url.full", "https://api.internal/\(tool)?page=\(random() % 10)"),
            .int("http.response.status_code", failed ? 504 : 200),
        ]
        var query = span(
            traceID, parent: call.spanID, name: "SELECT items", kind: .client, start: start + 400_000 + (total - 800_000) / 2,
            nanos: (total - 800_000) / 4)
        query.attributes = [
            .string("db.system.name", "postgresql"), .string("db.operation.name", "SELECT"),
            .string("db.query.text", "SELECT id, body FROM items WHERE tool = $1 LIMIT 20"),
        ]
        return [root, call, http, query]
    }

    private mutating func span(
        _ traceID: Data, parent: Data?, name: String, kind: Span.SpanKind, start: UInt64, nanos: UInt64
    ) -> Span {
        var span = Span()
        span.traceID = traceID
        var spanID = Data(count: 8)
        spanID.withUnsafeMutableBytes { $0.storeBytes(of: random() | 1, as: UInt64.self) }
        span.spanID = spanID
        if let parent { span.parentSpanID = parent }
        span.name = name
        span.kind = kind
        span.startTimeUnixNano = start
        span.endTimeUnixNano = start + nanos
        return span
    }

    private mutating func random() -> UInt64 { rng.next() }
}

import ObservatoryOTLP

typealias ExportTraceServiceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
typealias ResourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans
typealias Span = Opentelemetry_Proto_Trace_V1_Span

/// Realistic, reproducible MCP gateway traffic as OTLP protobuf, so `demo` can
/// fill an empty installation with something worth looking at, `bench` can load
/// the ingest path with representative payloads, and tests get believable input.
///
/// The same seed and start time always give the same bytes. Each trace is a
/// `POST /mcp` server span on the gateway around one MCP operation (tools/call,
/// prompts/get or resources/read), which may call PostgreSQL or an HTTP API from
/// the tool server; some fail with exceptions, JSON-RPC errors or tool errors.
public struct DemoTraffic: Sendable {
    var rng: SplitMix64
    let startUnixNano: UInt64
    let spacingNanos: UInt64
    var sessions: [DemoSession]

    /// Traces generated so far; trace `n` starts at `startUnixNano + n * spacingNanos`.
    public internal(set) var tracesGenerated = 0
    /// The number of spans in the request `makeRequest(traces:)` returned last.
    public private(set) var lastRequestSpanCount = 0

    /// - Parameters:
    ///   - seed: selects the traffic; equal seeds give equal traces.
    ///   - startUnixNano: start of the first trace's root span.
    ///   - spacingNanos: distance between the starts of successive traces.
    public init(seed: UInt64, startUnixNano: UInt64, spacingNanos: UInt64 = 50_000_000) {
        var rng = SplitMix64(seed: seed)
        sessions = (0..<48).map { _ in DemoSession(&rng) }
        self.rng = rng
        self.startUnixNano = startUnixNano
        self.spacingNanos = spacingNanos
    }

    /// The next trace, one `ResourceSpans` per service replica it touched.
    public mutating func nextTrace() -> [Opentelemetry_Proto_Trace_V1_ResourceSpans] {
        Self.group(placeTrace())
    }

    /// An export request holding the next `traces` traces, batched the way a
    /// collector batches: one `ResourceSpans` per replica, one `ScopeSpans` per
    /// instrumentation library. Gives the same spans as as many `nextTrace()` calls.
    public mutating func makeRequest(traces: Int) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var placed: [PlacedSpan] = []
        for _ in 0..<max(traces, 0) {
            placed += placeTrace()
        }
        lastRequestSpanCount = placed.count
        var request = ExportTraceServiceRequest()
        request.resourceSpans = Self.group(placed)
        return request
    }
}

/// A span with the replica and instrumentation library that emitted it.
struct PlacedSpan: Sendable {
    let resource: Int
    let scope: DemoTopology.Scope
    let span: Span
}

extension DemoTraffic {
    static let schemaURL = "https://opentelemetry.io/schemas/1.34.0"

    /// Groups spans by resource, then scope, each in order of first appearance.
    static func group(_ placed: [PlacedSpan]) -> [ResourceSpans] {
        let resourceCount = DemoTopology.resources.count
        var resourceOrder: [Int] = []
        var scopeOrder = Array(repeating: [DemoTopology.Scope](), count: resourceCount)
        var buckets = Array(repeating: Array(repeating: [Span](), count: DemoTopology.scopes.count), count: resourceCount)
        for entry in placed {
            if scopeOrder[entry.resource].isEmpty { resourceOrder.append(entry.resource) }
            if buckets[entry.resource][entry.scope.rawValue].isEmpty { scopeOrder[entry.resource].append(entry.scope) }
            buckets[entry.resource][entry.scope.rawValue].append(entry.span)
        }
        return resourceOrder.map { resource in
            var resourceSpans = ResourceSpans()
            resourceSpans.resource = DemoTopology.resources[resource]
            resourceSpans.schemaURL = schemaURL
            resourceSpans.scopeSpans = scopeOrder[resource].map { scope in
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                scopeSpans.scope = DemoTopology.scopes[scope.rawValue]
                scopeSpans.spans = buckets[resource][scope.rawValue]
                return scopeSpans
            }
            return resourceSpans
        }
    }
}

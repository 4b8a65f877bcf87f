import ObservatoryOTLP

typealias Span = Opentelemetry_Proto_Trace_V1_Span
typealias ResourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans

/// A span with the service that emitted it, so tests can look at traces flat.
struct FlatSpan: Sendable, Equatable {
    let service: String
    let host: String
    let span: Span
}

func flatten(_ resourceSpans: [ResourceSpans]) -> [FlatSpan] {
    resourceSpans.flatMap { resource in
        let service = resource.resource.attributes.first { $0.key == "service.name" }?.value.stringValue ?? ""
        let host = resource.resource.attributes.first { $0.key == "host.name" }?.value.stringValue ?? ""
        return resource.scopeSpans.flatMap { scope in
            scope.spans.map { FlatSpan(service: service, host: host, span: $0) }
        }
    }
}

extension Span {
    func value(_ key: String) -> Opentelemetry_Proto_Common_V1_AnyValue? {
        attributes.first { $0.key == key }?.value
    }

    func text(_ key: String) -> String? {
        guard case .stringValue(let text)? = value(key)?.value else { return nil }
        return text
    }

    var durationMillis: Double {
        Double(endTimeUnixNano - startTimeUnixNano) / 1_000_000
    }

    /// Failed in any of the three ways MCP servers report failure.
    var reportsError: Bool {
        status.code == .error || value("rpc.jsonrpc.error_code") != nil || value("mcp.tool.is_error")?.boolValue == true
    }
}

extension Array where Element == FlatSpan {
    var root: Span? { first { $0.span.parentSpanID.isEmpty }?.span }
    var operation: Span? { first { $0.span.text("mcp.method.name") != nil }?.span }
}

/// 2,000 traces from one seed, generated once for all the statistical tests.
enum Sample {
    static let start: UInt64 = 1_750_000_000_000_000_000
    static let traces: [[FlatSpan]] = {
        var traffic = DemoTrafficFactory.make(seed: 42)
        return (0..<2000).map { _ in flatten(traffic.nextTrace()) }
    }()
    static let spans: [FlatSpan] = traces.flatMap { $0 }
}

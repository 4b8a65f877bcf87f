import Foundation
import ObservatoryStore

// The JSON API's field names for the store's read models (docs/api.md). The records
// carry Swift names only; these write them under the names the API documents, which for
// metric rows are the views' column names, so that the API and psql agree. Members that
// are nil are left out, as Codable's synthesized conformances leave them out.

/// A `MetricRow` in the API.
struct MetricRowJSON: Encodable {
    var row: MetricRow

    init(_ row: MetricRow) {
        self.row = row
    }

    enum CodingKeys: String, CodingKey {
        case level, operation, server, target, health
        case requestCount = "request_count", errorCount = "error_count", errorPct = "error_pct"
        case avgMs = "avg_ms", p50Ms = "p50_ms", p90Ms = "p90_ms", p95Ms = "p95_ms", p99Ms = "p99_ms"
        case maxMs = "max_ms", firstSeen = "first_seen", lastSeen = "last_seen"
        case clientAvgMs = "client_avg_ms", clientP50Ms = "client_p50_ms", clientP90Ms = "client_p90_ms"
        case clientP95Ms = "client_p95_ms", clientP99Ms = "client_p99_ms", overheadMs = "overhead_ms"
        case exampleError = "example_error", computedAt = "computed_at"
    }

    /// Durations a row lacks (no server side, no client side recorded) are left out.
    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(row.level, forKey: .level)
        try json.encode(row.operationName, forKey: .operation)
        try json.encode(row.server, forKey: .server)
        try json.encode(row.target, forKey: .target)
        try json.encode(row.health, forKey: .health)
        try json.encode(row.requestCount, forKey: .requestCount)
        try json.encode(row.errorCount, forKey: .errorCount)
        try json.encode(row.errorPct, forKey: .errorPct)
        try json.encodeIfPresent(row.avgMs, forKey: .avgMs)
        try json.encodeIfPresent(row.p50Ms, forKey: .p50Ms)
        try json.encodeIfPresent(row.p90Ms, forKey: .p90Ms)
        try json.encodeIfPresent(row.p95Ms, forKey: .p95Ms)
        try json.encodeIfPresent(row.p99Ms, forKey: .p99Ms)
        try json.encodeIfPresent(row.maxMs, forKey: .maxMs)
        try json.encodeIfPresent(row.client?.avgMs, forKey: .clientAvgMs)
        try json.encodeIfPresent(row.client?.p50Ms, forKey: .clientP50Ms)
        try json.encodeIfPresent(row.client?.p90Ms, forKey: .clientP90Ms)
        try json.encodeIfPresent(row.client?.p95Ms, forKey: .clientP95Ms)
        try json.encodeIfPresent(row.client?.p99Ms, forKey: .clientP99Ms)
        try json.encodeIfPresent(row.client?.overheadMs, forKey: .overheadMs)
        try json.encode(row.firstSeen, forKey: .firstSeen)
        try json.encode(row.lastSeen, forKey: .lastSeen)
        try json.encodeIfPresent(row.exampleError, forKey: .exampleError)
        try json.encode(row.computedAt, forKey: .computedAt)
    }
}

extension MetricRow {
    /// The operation as the view and the API write it: empty on a `total` row.
    var operationName: String { operation?.rawValue ?? "" }
}

/// A `SeriesPoint` in the API.
struct SeriesPointJSON: Encodable {
    var point: SeriesPoint

    enum CodingKeys: String, CodingKey {
        case bucket, requestCount = "request_count", errorCount = "error_count", p95Ms = "p95_ms"
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(point.bucket, forKey: .bucket)
        try json.encode(point.requestCount, forKey: .requestCount)
        try json.encode(point.errorCount, forKey: .errorCount)
        try json.encodeIfPresent(point.p95Ms, forKey: .p95Ms)
    }
}

/// A `WindowFreshness` in the API: the columns of `metric_windows`.
struct WindowFreshnessJSON: Encodable {
    var freshness: WindowFreshness

    enum CodingKeys: String, CodingKey {
        case window = "time_window", lastRefreshedAt = "last_refreshed_at", lastDurationMs = "last_duration_ms"
        case refreshEverySeconds = "refresh_every_seconds"
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(freshness.window, forKey: .window)
        try json.encodeIfPresent(freshness.lastRefreshedAt, forKey: .lastRefreshedAt)
        try json.encodeIfPresent(freshness.lastDurationMs, forKey: .lastDurationMs)
        try json.encode(freshness.refreshEverySeconds, forKey: .refreshEverySeconds)
    }
}

/// A `TraceSummary` in the trace lists of the API.
struct TraceSummaryJSON: Encodable {
    var trace: TraceSummary

    enum CodingKeys: String, CodingKey {
        case traceID = "trace_id", rootName = "root_name", serviceName = "service_name", startTime = "start_time"
        case endTime = "end_time", durationMs = "duration_ms", spanCount = "span_count", errorCount = "error_count"
        case status, firstError = "first_error"
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(trace.traceID, forKey: .traceID)
        try json.encode(trace.rootName, forKey: .rootName)
        try json.encode(trace.serviceName, forKey: .serviceName)
        try json.encode(trace.startTime, forKey: .startTime)
        try json.encode(trace.endTime, forKey: .endTime)
        try json.encode(trace.durationMs, forKey: .durationMs)
        try json.encode(trace.spanCount, forKey: .spanCount)
        try json.encode(trace.errorCount, forKey: .errorCount)
        try json.encode(trace.status, forKey: .status)
        try json.encodeIfPresent(trace.firstError.map(FailedSpanJSON.init), forKey: .firstError)
    }
}

/// A `FailedSpan`, the `first_error` of a trace in the API.
struct FailedSpanJSON: Encodable {
    var span: FailedSpan

    enum CodingKeys: String, CodingKey {
        case name, operation, target, message
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(span.name, forKey: .name)
        try json.encode(span.operation, forKey: .operation)
        try json.encodeIfPresent(span.target, forKey: .target)
        try json.encodeIfPresent(span.message, forKey: .message)
    }
}

import Foundation

/// One row of a metric view: the figures of one operation, server and target (or of one
/// kind, or of everything) over one window. For tools, prompts and resources a row counts
/// MCP requests once (migrations/0011): the server-side durations are `avgMs`…`maxMs`, nil
/// where no server side was recorded, and the client-side ones are apart. The JSON API
/// writes it with the view's column names (`MetricRowJSON` in the web layer), so the API
/// and psql agree.
public struct MetricRow: Sendable, Equatable {
    public var level: MetricLevel
    /// nil on `total` rows (the view's empty operation).
    public var operation: SpanOperation?
    /// The MCP server of a tool, prompt or resource row; empty for HTTP and database rows
    /// and on `operation` and `total` rows.
    public var server: String
    /// Empty on `operation` and `total` rows.
    public var target: String
    public var requestCount: Int
    public var errorCount: Int
    /// 0–100.
    public var errorPct: Double
    public var health: Health
    public var avgMs: Double?
    public var p50Ms: Double?
    public var p90Ms: Double?
    public var p95Ms: Double?
    public var p99Ms: Double?
    public var maxMs: Double?
    /// The client side's durations; nil where no client side was recorded (and for HTTP
    /// and database rows).
    public var client: ClientLatency?
    public var firstSeen: Date
    public var lastSeen: Date
    public var exampleError: String?
    /// When the view was last refreshed: the figures are as of this instant.
    public var computedAt: Date

    public init(
        level: MetricLevel, operation: SpanOperation?, server: String = "", target: String, requestCount: Int,
        errorCount: Int, errorPct: Double, health: Health, avgMs: Double?, p50Ms: Double?, p90Ms: Double?, p95Ms: Double?,
        p99Ms: Double?, maxMs: Double?, client: ClientLatency? = nil, firstSeen: Date, lastSeen: Date, exampleError: String?,
        computedAt: Date
    ) {
        self.level = level
        self.operation = operation
        self.server = server
        self.target = target
        self.requestCount = requestCount
        self.errorCount = errorCount
        self.errorPct = errorPct
        self.health = health
        self.avgMs = avgMs
        self.p50Ms = p50Ms
        self.p90Ms = p90Ms
        self.p95Ms = p95Ms
        self.p99Ms = p99Ms
        self.maxMs = maxMs
        self.client = client
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.exampleError = exampleError
        self.computedAt = computedAt
    }
}

/// The client-observed durations of a row's requests, and how much longer the client
/// waited than the server worked (transport, gateways) over requests seen from both sides.
public struct ClientLatency: Sendable, Equatable {
    public var avgMs: Double
    public var p50Ms: Double
    public var p90Ms: Double
    public var p95Ms: Double
    public var p99Ms: Double
    /// nil when no request of the row was seen from both sides.
    public var overheadMs: Double?

    public init(avgMs: Double, p50Ms: Double, p90Ms: Double, p95Ms: Double, p99Ms: Double, overheadMs: Double?) {
        self.avgMs = avgMs
        self.p50Ms = p50Ms
        self.p90Ms = p90Ms
        self.p95Ms = p95Ms
        self.p99Ms = p99Ms
        self.overheadMs = overheadMs
    }
}

/// A point of a time series: one bucket of the per-minute or per-hour rollup.
public struct SeriesPoint: Sendable, Equatable {
    public var bucket: Date
    public var requestCount: Int
    public var errorCount: Int
    /// nil for a bucket without spans.
    public var p95Ms: Double?
}

/// When a window's view was last refreshed and how often it is.
public struct WindowFreshness: Sendable, Equatable {
    public var window: MetricWindow
    public var lastRefreshedAt: Date?
    public var lastDurationMs: Double?
    public var refreshEverySeconds: Double
}

/// The columns a metrics table may be ordered by; anything else is refused before SQL.
public enum MetricSort: String, CaseIterable, Sendable {
    case name, server, count, avg, p50, p90, p95, p99, clientP95 = "client_p95", overhead
    case errors = "error_rate", lastSeen = "last_seen"

    var column: String {
        switch self {
        case .name: "target"
        case .server: "server"
        case .clientP95: "client_p95_ms"
        case .overhead: "overhead_ms"
        case .count: "request_count"
        case .avg: "avg_ms"
        case .p50: "p50_ms"
        case .p90: "p90_ms"
        case .p95: "p95_ms"
        case .p99: "p99_ms"
        case .errors: "error_pct"
        case .lastSeen: "last_seen"
        }
    }
}

// The domain's names, each declared once: the database stores them as text (the same
// spelling, held to these values by the schema's CHECK constraints and view definitions),
// the JSON API and the pages show them, and every layer passes them as these types.
// `MetricWindow` (MetricWindow.swift) is one more. How they are read from and bound to
// PostgreSQL: StoredName.swift.

/// The span kinds of OpenTelemetry, as stored in the `kind` column.
public enum SpanKind: String, Sendable, CaseIterable {
    case unspecified, `internal`, server, client, producer, consumer

    /// From OTLP's `SpanKind` number; unknown numbers are `unspecified`.
    public init(otlpValue: Int) {
        switch otlpValue {
        case 1: self = .internal
        case 2: self = .server
        case 3: self = .client
        case 4: self = .producer
        case 5: self = .consumer
        default: self = .unspecified
        }
    }
}

/// What a span did, as the dashboards group it; see docs/classification.md.
public enum SpanOperation: String, Sendable, CaseIterable {
    case toolInvoke = "tool_invoke"
    case promptRender = "prompt_render"
    case resourceFetch = "resource_fetch"
    case httpRequest = "http_request"
    case dbQuery = "db_query"
    case `internal` = "internal"

    /// The MCP method whose requests (`calls.method`) the operation's metric rows count;
    /// nil for the operations counted from spans.
    public var mcpMethod: String? {
        switch self {
        case .toolInvoke: "tools/call"
        case .promptRender: "prompts/get"
        case .resourceFetch: "resources/read"
        case .httpRequest, .dbQuery, .internal: nil
        }
    }
}

/// The outcome column: OpenTelemetry's status, with errors also inferred from attributes.
/// A trace's status (the `traces` row) is `ok` or `error`, never `unset`.
public enum SpanStatus: String, Sendable, CaseIterable {
    case ok, error, unset
}

/// Which side of an MCP request a call row records (migrations/0011): the process that
/// sent the request, or the one that handled it.
public enum CallSide: String, Sendable, CaseIterable {
    case client, server
}

/// How a metric row's error rate reads, for its color on the pages. The rule is
/// `observability.health()` (migrations/0006), the one place its thresholds live: the
/// metric views compute the `health` column with it, for psql users and for the pages
/// alike, and nothing else classifies an error rate. By percentage of failed calls:
/// green under 5, yellow from 5 to 20, red over 20, critical over 50.
public enum Health: String, Sendable, CaseIterable {
    case green, yellow, red, critical
}

/// What a row of a metric view (and of a rollup) sums over: one operation kind and
/// target, one operation kind as a whole (target empty), or everything (operation and
/// target empty). The rollups hold `target` and `total` rows only.
public enum MetricLevel: String, Sendable, CaseIterable {
    case target, operation, total
}

/// When a database call counts as a slow query. The service's own queries get
/// `observatory.slow_query` past it (`tracedQuery`), and the trace page flags every
/// `db_query` span longer than it, whoever sent it. (`sql/queries/slow_db_queries.sql`,
/// for psql users, takes the threshold as its `ms` variable, 1000 unless given.)
public enum SlowQuery {
    public static let threshold: Duration = .seconds(1)

    /// `threshold` in milliseconds, the unit of stored span durations.
    public static var thresholdMs: Double {
        let (seconds, attoseconds) = threshold.components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }

    /// Whether a stored span of `operation` that took `durationMs` is a slow query.
    public static func isSlow(_ operation: SpanOperation, durationMs: Double) -> Bool {
        operation == .dbQuery && durationMs > thresholdMs
    }
}

/// The service name of the service's own spans. Its traces stay out of users' metrics,
/// trace list and trace cap (migrations/0011 names it in `observability_internal.self_service()`;
/// a test checks the two agree).
public enum SelfService {
    public static let name = "mcp-observatory"
}

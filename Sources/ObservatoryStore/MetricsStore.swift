import Foundation
import Logging
import PostgresNIO

/// Reads the metric views and rollups (migrations/0006, 0007) and runs their refresh.
/// Only SQL here: which rows a page needs is decided by the caller.
public struct MetricsStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let metricColumns = """
        level, operation, server, target, request_count, error_count, error_pct, health, avg_ms, p50_ms, p90_ms, p95_ms,
        p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms, overhead_ms,
        first_seen, last_seen, example_error, computed_at
        """

    /// Per-target rows of one operation kind (all kinds when nil), of one server when
    /// `server` is given, ordered and limited. Rows without the sorted figure come last.
    public func targets(
        window: MetricWindow, operation: SpanOperation?, server: String? = nil, sort: MetricSort = .count,
        descending: Bool = true, limit: Int
    ) async throws(DatabaseError) -> [MetricRow] {
        let direction = descending ? "DESC" : "ASC"
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.metricColumns) FROM observability.\(unescaped: window.viewName)
            WHERE level = 'target' AND (\(operation)::text IS NULL OR operation = \(operation))
              AND (\(server)::text IS NULL OR server = \(server))
            ORDER BY \(unescaped: sort.column) \(unescaped: direction) NULLS LAST, target, server
            LIMIT \(limit)
            """
        return try await metricRows(query)
    }

    /// The most error-prone targets: highest error rate first, then most errors.
    public func errorProne(window: MetricWindow, operation: SpanOperation?, limit: Int) async throws(DatabaseError) -> [MetricRow]
    {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.metricColumns) FROM observability.\(unescaped: window.viewName)
            WHERE level = 'target' AND error_count > 0 AND (\(operation)::text IS NULL OR operation = \(operation))
            ORDER BY error_pct DESC, error_count DESC, target, server
            LIMIT \(limit)
            """
        return try await metricRows(query)
    }

    /// The figures of one operation kind as a whole, or of everything when `operation` is
    /// nil; nil when the window holds no span of it.
    public func aggregate(window: MetricWindow, operation: SpanOperation?) async throws(DatabaseError) -> MetricRow? {
        let level: MetricLevel = operation == nil ? .total : .operation
        let name = operation?.rawValue ?? ""  // the total row's operation is empty
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.metricColumns) FROM observability.\(unescaped: window.viewName)
            WHERE level = \(level) AND operation = \(name)
            """
        return try await metricRows(query).first
    }

    /// Requests, errors and p95 over time, over everything, from the rollups: one point
    /// per bucket of the window, empty buckets included (zero requests, no p95), so a
    /// chart's axis shows the gaps.
    public func series(window: MetricWindow, now: Date = Date()) async throws(DatabaseError) -> [SeriesPoint] {
        let source = window.seriesSource
        let since = now.addingTimeInterval(-Double(window.seconds))
        let unit = source.bucketSeconds == 60 ? "minute" : "hour"
        let query: PostgresQuery = """
            WITH totals AS MATERIALIZED (
                SELECT bucket, request_count, error_count, p95_ms FROM observability.\(unescaped: source.table)
                WHERE level = 'total' AND bucket >= date_trunc(\(unit), \(since)::timestamptz, 'UTC')
            )
            SELECT g.bucket, coalesce(m.request_count, 0)::bigint, coalesce(m.error_count, 0)::bigint, m.p95_ms
            FROM generate_series(date_trunc(\(unit), \(since)::timestamptz, 'UTC'), \(now)::timestamptz,
                                 \(source.bucketSeconds) * interval '1 second') AS g(bucket)
            LEFT JOIN totals m ON m.bucket = g.bucket
            ORDER BY g.bucket
            """
        do {
            var points: [SeriesPoint] = []
            for (bucket, count, errors, p95) in try await client.tracedQuery(query, logger: logger)
                .decode((Date, Int, Int, Double?).self)
            {
                points.append(SeriesPoint(bucket: bucket, requestCount: count, errorCount: errors, p95Ms: p95))
            }
            return points
        } catch {
            throw DatabaseError(error)
        }
    }

    /// When each window was last refreshed.
    public func freshness() async throws(DatabaseError) -> [WindowFreshness] {
        do {
            var windows: [WindowFreshness] = []
            let rows = try await client.tracedQuery(
                """
                SELECT time_window, last_refreshed_at, last_duration_ms, extract(epoch FROM refresh_every)::float8
                FROM observability.metric_windows ORDER BY window_span
                """, logger: logger)
            for (name, refreshed, duration, every) in try rows.decode((String, Date?, Double?, Double).self) {
                // As `dueWindows`: a window this build has no view for is not one it shows.
                guard let window = MetricWindow(rawValue: name) else { continue }
                windows.append(
                    WindowFreshness(
                        window: window, lastRefreshedAt: refreshed, lastDurationMs: duration, refreshEverySeconds: every))
            }
            return windows
        } catch {
            throw DatabaseError(error)
        }
    }

    /// The windows whose refresh cadence has passed at `now` (the database's clock when
    /// nil), as `due_metric_windows()` decides: the rule `refresh_metrics()` applies too.
    /// Not traced: maintenance asks on every poll, and only the refreshes it then runs are
    /// worth a trace.
    public func dueWindows(now: Date? = nil) async throws(DatabaseError) -> [MetricWindow] {
        do {
            var due: [MetricWindow] = []
            let rows = try await client.query(
                "SELECT time_window FROM observability_internal.due_metric_windows(coalesce(\(now)::timestamptz, now()))",
                logger: logger)
            for try await name in rows.decode(String.self) {
                if let window = MetricWindow(rawValue: name) { due.append(window) }
            }
            return due
        } catch {
            throw DatabaseError(error)
        }
    }

    /// One window's outcome of `refresh_metrics()`.
    public struct Refreshed: Sendable, Equatable {
        public var window: String
        /// `refreshed`, `not due`, or `busy` (another session was refreshing it).
        public var outcome: String
        public var durationMs: Double?

        public var refreshed: Bool { outcome == "refreshed" }
    }

    /// Refreshes the windows that are due (all with `force`; only `windows` when given),
    /// after rolling up new minutes when `rollup` is true. One call is one transaction.
    @discardableResult
    public func refresh(
        force: Bool = false, now: Date? = nil, windows: [MetricWindow]? = nil, rollup: Bool = true
    ) async throws(DatabaseError) -> [Refreshed] {
        do {
            let names = windows?.map(\.rawValue)
            let query: PostgresQuery = """
                SELECT time_window, outcome, duration_ms
                FROM observability.refresh_metrics(coalesce(\(now)::timestamptz, now()), \(force), \(names)::text[], \(rollup))
                """
            var result: [Refreshed] = []
            for (window, outcome, duration) in try await client.tracedQuery(query, logger: logger)
                .decode((String, String, Double?).self)
            {
                result.append(Refreshed(window: window, outcome: outcome, durationMs: duration))
            }
            return result
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Rolls up the minutes and hours that are new since the last run, then rebuilds the
    /// trace page's 24-hour rank histograms if a finished hour changed them; false when
    /// another session was rolling up.
    @discardableResult
    public func rollup(now: Date? = nil) async throws(DatabaseError) -> Bool {
        do {
            let rows = try await client.tracedQuery(
                "SELECT ran FROM observability_internal.rollup_metrics(coalesce(\(now)::timestamptz, now()))", logger: logger)
            var ran = false
            for value in try rows.decode(Bool.self) { ran = value }
            guard ran else { return false }
            _ = try await client.tracedQuery(
                "SELECT observability_internal.refresh_rank_histograms(coalesce(\(now)::timestamptz, now()))",
                logger: logger)
            return true
        } catch {
            throw DatabaseError(error)
        }
    }

    private func metricRows(_ query: PostgresQuery) async throws(DatabaseError) -> [MetricRow] {
        do {
            var result: [MetricRow] = []
            let rows = try await client.tracedQuery(query, logger: logger).decode(
                (
                    MetricLevel, String, String, String, Int, Int, Double, Health, Double?, Double?, Double?, Double?, Double?,
                    Double?, Double?, Double?, Double?, Double?, Double?, Double?, Date, Date, String?, Date
                ).self)
            for (
                level, operation, server, target, count, errors, errorPct, health, avg, p50, p90, p95, p99, max,
                clientAvg, clientP50, clientP90, clientP95, clientP99, overhead, first, last, example, computed
            ) in rows {
                // The operation and total rows of a view carry an empty operation.
                let operation = operation.isEmpty ? nil : try SpanOperation(stored: operation)
                // The client figures exist together: all from the same requests, or none.
                var client: ClientLatency?
                if let clientAvg, let clientP50, let clientP90, let clientP95, let clientP99 {
                    client = ClientLatency(
                        avgMs: clientAvg, p50Ms: clientP50, p90Ms: clientP90, p95Ms: clientP95, p99Ms: clientP99,
                        overheadMs: overhead)
                }
                result.append(
                    MetricRow(
                        level: level, operation: operation, server: server, target: target, requestCount: count,
                        errorCount: errors, errorPct: errorPct, health: health, avgMs: avg, p50Ms: p50, p90Ms: p90,
                        p95Ms: p95, p99Ms: p99, maxMs: max, client: client, firstSeen: first, lastSeen: last,
                        exampleError: example, computedAt: computed))
            }
            return result
        } catch {
            throw DatabaseError(error)
        }
    }
}

import Foundation
import PostgresNIO

/// One trace of a trace-list export, as the export writes it: times as RFC 3339 text in
/// UTC to the microsecond (a `Date` would round them), and where the next page starts.
public struct ExportedTrace: Sendable, Equatable {
    public var traceID: String
    public var rootName: String
    public var serviceName: String
    public var startTime: String
    public var endTime: String
    public var durationMs: Double
    public var spanCount: Int
    public var errorCount: Int
    public var status: SpanStatus
    /// The next page's position: this trace's start time exactly as PostgreSQL writes it,
    /// and its id.
    public var cursor: ExportCursor
}

/// Where a page of an export ends: the last trace's start time (PostgreSQL's text, which
/// reads back to the same microsecond) and id.
public struct ExportCursor: Sendable, Equatable {
    public var startTime: String
    public var traceID: UUID
}

extension TraceStore {
    /// Traces an export reads per query: each query ends well within the dashboards'
    /// statement timeout, and only one page is held at a time however many traces match.
    public static let exportPageSize = 2_000

    /// One trace as the OTLP/JSON export request `POST /v1/traces` accepts
    /// (`observability.trace_otlp()`); nil when the id is unknown.
    public func otlp(_ id: TraceID) async throws(DatabaseError) -> String? {
        do {
            let rows = try await client.tracedQuery("SELECT observability.trace_otlp(\(id))::text", logger: logger)
            return try rows.first?.decode(String?.self)
        } catch {
            throw DatabaseError(error)
        }
    }

    /// The page of the traces matching `filter` that follows `cursor` (the first page when
    /// nil), newest first, at most `limit`. Unlike the trace list, a target filter here
    /// checks each trace of the window instead of a bounded number of the newest spans, and
    /// so does an attribute search: an export is complete, not a first page. Pages are read by position, not by offset,
    /// so each costs the same however deep into the export it is.
    public func exportPage(_ filter: TraceFilter, after cursor: ExportCursor?, limit: Int) async throws(DatabaseError)
        -> [ExportedTrace]
    {
        let query: PostgresQuery = """
            SELECT observability.hex_trace_id(t.trace_id), t.root_name, t.service_name,
                   to_char(t.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   to_char(t.end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   t.duration_ms, t.span_count, t.error_count, t.status, t.start_time::text, t.trace_id
            FROM observability.traces t
            WHERE t.start_time >= \(filter.since) AND t.start_time <= \(filter.until)
              AND (\(cursor?.startTime)::timestamptz IS NULL
                   OR (t.start_time <= \(cursor?.startTime)::timestamptz
                       AND (t.start_time, t.trace_id) < (\(cursor?.startTime)::timestamptz, \(cursor?.traceID))))
              AND \(traceConditions: filter) AND \(attributesOf: filter)
              AND (\(filter.operation)::text IS NULL OR EXISTS (
                    SELECT 1 FROM observability.spans s
                    WHERE s.trace_id = t.trace_id AND s.operation = \(filter.operation)
                      AND (\(filter.target)::text IS NULL OR s.target = \(filter.target))
                      AND s.start_time >= t.start_time AND s.start_time <= t.end_time))
            ORDER BY t.start_time DESC, t.trace_id DESC
            LIMIT \(limit)
            """
        do {
            let rows = try await client.tracedQuery(query, logger: logger).decode(
                (String, String, String, String, String, Double, Int, Int, SpanStatus, String, UUID).self)
            return rows.map { id, root, service, start, end, duration, spans, errors, status, cursorStart, cursorID in
                ExportedTrace(
                    traceID: id, rootName: root, serviceName: service, startTime: start, endTime: end, durationMs: duration,
                    spanCount: spans, errorCount: errors, status: status,
                    cursor: ExportCursor(startTime: cursorStart, traceID: cursorID))
            }
        } catch {
            throw DatabaseError(error)
        }
    }
}

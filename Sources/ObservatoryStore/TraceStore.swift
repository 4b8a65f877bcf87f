import Foundation
import Logging
import PostgresNIO

/// Reads traces and their spans for the trace list and the trace detail page.
public struct TraceStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    /// A target filter looks at this many of the newest matching spans: enough for any
    /// page of a trace list, and bounded however popular the target is.
    public static let targetScanLimit = 5_000

    /// An attribute search checks at most this many of the newest traces of the window
    /// (those passing the other filters): about 20 ms of PostgreSQL when none matches, measured in
    /// docs/performance.md, however long the window. The page says when it stopped here.
    public static let attributeScanLimit = 1_000

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let summaryColumns = """
        observability.hex_trace_id(t.trace_id), t.root_name, t.service_name, t.start_time, t.end_time, t.duration_ms,
        t.span_count, t.error_count, t.status
        """

    /// Traces matching `filter` that started between `since` and `until`, newest first. Returns up to `limit + 1` rows so the caller
    /// knows whether a next page exists without counting every match.
    public func list(_ filter: TraceFilter) async throws(DatabaseError) -> [TraceSummary] {
        guard filter.target != nil else { return try await summaries(Self.listQuery(filter, scanLimit: 0)) }
        // With a target, a page usually needs only a few spans per trace: look at a small
        // number of the newest first, and at the full bound only when that falls short.
        let small = min(Self.targetScanLimit, max(200, (filter.offset + filter.limit + 1) * 3))
        let found = try await summaries(Self.listQuery(filter, scanLimit: small))
        if found.count > filter.limit || small == Self.targetScanLimit { return found }
        return try await summaries(Self.listQuery(filter, scanLimit: Self.targetScanLimit))
    }

    /// The query of one page; `scanLimit` bounds the spans a target filter looks at.
    static func listQuery(_ filter: TraceFilter, scanLimit: Int) -> PostgresQuery {
        // The page of traces is chosen first; only its rows then look up their first
        // error, so the lateral join runs limit + 1 times, not once per candidate.
        let page: PostgresQuery
        if let operation = filter.operation, let target = filter.target {
            // Driven by the (operation, target, start_time) index: the newest matching
            // spans, then their traces.
            page = """
                WITH matched AS (
                    SELECT DISTINCT m.trace_id FROM (
                        SELECT sp.trace_id FROM observability.spans sp
                        WHERE sp.operation = \(operation) AND sp.target = \(target)
                          AND sp.start_time >= \(filter.since) AND sp.start_time <= \(filter.until)
                        ORDER BY sp.start_time DESC LIMIT \(scanLimit)
                    ) m
                )
                SELECT t.* FROM matched JOIN observability.traces t ON t.trace_id = matched.trace_id
                WHERE \(traceConditions: filter) AND \(attributesOf: filter)
                ORDER BY t.start_time DESC, t.trace_id
                LIMIT \(filter.limit + 1) OFFSET \(filter.offset)
                """
        } else if filter.attributes.isEmpty {
            page = """
                SELECT t.* FROM observability.traces t
                WHERE t.start_time >= \(filter.since) AND t.start_time <= \(filter.until)
                  AND \(traceConditions: filter) AND \(operationOf: filter)
                ORDER BY t.start_time DESC, t.trace_id
                LIMIT \(filter.limit + 1) OFFSET \(filter.offset)
                """
        } else {
            // An attribute search reads spans, which no index answers: it checks the newest
            // traces of the window one by one through their trace-id index and stops at
            // the page's end, or after ``attributeScanLimit`` traces (see
            // ``searchWasBounded(_:)`` and docs/performance.md).
            page = """
                SELECT t.* FROM (
                    SELECT t.* FROM observability.traces t
                    WHERE t.start_time >= \(filter.since) AND t.start_time <= \(filter.until)
                      AND \(traceConditions: filter) AND \(operationOf: filter)
                    ORDER BY t.start_time DESC, t.trace_id
                    LIMIT \(Self.attributeScanLimit)
                ) t
                WHERE \(attributesOf: filter)
                ORDER BY t.start_time DESC, t.trace_id
                LIMIT \(filter.limit + 1) OFFSET \(filter.offset)
                """
        }
        // Wrapped as text around the page query, whose binds ($1...) it keeps as they are.
        var query = page
        query.sql = "SELECT \(Self.summaryColumns) FROM (\(page.sql)) t ORDER BY t.start_time DESC, t.trace_id"
        return query
    }

    /// Whether the trace list's attribute search under `filter` stopped at
    /// ``attributeScanLimit``: more traces of the window pass the other filters than it
    /// checked, so older matches may exist. Asked only when a page came back short (a full
    /// page holds the newest matches, whatever lies beyond the bound). Never for a target
    /// filter, which is bounded by its spans instead (``targetScanLimit``).
    public func searchWasBounded(_ filter: TraceFilter) async throws(DatabaseError) -> Bool {
        guard !filter.attributes.isEmpty, filter.target == nil else { return false }
        let query: PostgresQuery = """
            SELECT count(*) > \(Self.attributeScanLimit) FROM (
                SELECT 1 FROM observability.traces t
                WHERE t.start_time >= \(filter.since) AND t.start_time <= \(filter.until)
                  AND \(traceConditions: filter) AND \(operationOf: filter)
                LIMIT \(Self.attributeScanLimit + 1)
            ) candidates
            """
        do {
            let rows = try await client.tracedQuery(query, logger: logger)
            for bounded in try rows.decode(Bool.self) { return bounded }
            return false
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Spans of one trace decoded between two yields to other tasks.
    static let spanDecodeSlice = 500

    /// One trace's summary row; nil when the id is unknown. Its times bound the reads of
    /// the trace's spans, calls and ranks, which can then run side by side.
    public func summary(_ id: TraceID) async throws(DatabaseError) -> TraceSummary? {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.summaryColumns)
            FROM observability.traces t
            WHERE t.trace_id = \(id)
            """
        // The detail page lays the spans out itself; it needs no first-error lookup.
        return try await summaries(query, withFirstErrors: false).first
    }

    /// All spans of one trace in start order. `from`/`through` are the trace's first start
    /// and last end (its summary's): bound as values, they keep the planner to those days'
    /// partitions.
    public func spans(_ id: TraceID, from: Date, through: Date) async throws(DatabaseError) -> [StoredSpan] {
        let spansQuery: PostgresQuery = """
            SELECT observability.hex_span_id(s.span_id), observability.hex_span_id(s.parent_span_id), s.name, s.kind,
                   s.operation, s.target, s.service_name, coalesce(s.scope_name, c.name), s.start_time, s.end_time,
                   s.duration_ms, s.status, s.status_message, s.attributes::text,
                   coalesce(s.resource_attributes, r.attributes)::text, s.events::text
            FROM observability.spans s
            LEFT JOIN observability.resources r ON r.resource_id = s.resource_id
            LEFT JOIN observability.scopes c ON c.scope_id = s.scope_id
            WHERE s.trace_id = \(id) AND s.start_time >= \(from) AND s.start_time <= \(through)
            ORDER BY s.start_time, s.span_id
            """
        do {
            let rows = try await client.tracedQuery(spansQuery, logger: logger)
            var spans: [StoredSpan] = []
            spans.reserveCapacity(rows.count)
            // A trace can hold tens of thousands of spans, and decoding them is the largest
            // part of showing it: in slices, yielding between them, so that one large trace
            // does not hold a thread of the shared pool (and /healthz behind it) for seconds.
            for first in stride(from: 0, to: rows.count, by: Self.spanDecodeSlice) {
                if first > 0 { await Task.yield() }
                let slice = rows[first..<min(first + Self.spanDecodeSlice, rows.count)]
                for row in slice {
                    let (
                        spanID, parent, name, kind, operation, target, service, scope, start, end, duration, status,
                        message, attributes, resource, events
                    ) = try row.decode(
                        (
                            String, String?, String, SpanKind, SpanOperation, String?, String, String?, Date, Date, Double,
                            SpanStatus, String?, String, String, String
                        ).self)
                    spans.append(
                        StoredSpan(
                            spanID: spanID, parentSpanID: parent, name: name, kind: kind, operation: operation, target: target,
                            serviceName: service, scopeName: scope, startTime: start, endTime: end, durationMs: duration,
                            status: status, statusMessage: message, attributesJSON: attributes,
                            resourceAttributesJSON: resource, eventsJSON: events))
                }
            }
            return spans
        } catch {
            throw DatabaseError(error)
        }
    }

    /// `text` with LIKE's wildcards escaped, so a search for `50%` or `a_b` means itself.
    static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// The traces of `query`, with where each failed one's failure began.
    func summaries(_ query: PostgresQuery, withFirstErrors: Bool = true) async throws(DatabaseError) -> [TraceSummary] {
        do {
            var result: [TraceSummary] = []
            let rows = try await client.tracedQuery(query, logger: logger).decode(
                (String, String, String, Date, Date, Double, Int, Int, SpanStatus).self)
            for (traceID, rootName, service, start, end, duration, spans, errors, status) in rows {
                result.append(
                    TraceSummary(
                        traceID: traceID, rootName: rootName, serviceName: service, startTime: start, endTime: end,
                        durationMs: duration, spanCount: spans, errorCount: errors, status: status, firstError: nil))
            }
            if withFirstErrors { try await attachFirstErrors(to: &result) }
            return result
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Where each failed trace's failure began: the earliest failed span none of whose
    /// children failed. Failures propagate upwards (a tool error fails its MCP request,
    /// which fails the HTTP span), so the root says little; the deepest one says what
    /// broke. One query for the whole page, bounded by the page's own times as values:
    /// PostgreSQL then plans only the partitions of those days. (A lateral join per trace
    /// planned every daily partition, 26 ms at 36 partitions, for every list.)
    private func attachFirstErrors(to traces: inout [TraceSummary]) async throws {
        let failed = traces.filter { $0.errorCount > 0 }
        guard let from = failed.map(\.startTime).min(), let until = failed.map(\.endTime).max() else { return }
        let ids = failed.compactMap { TraceID(hex: $0.traceID) }
        let query: PostgresQuery = """
            SELECT DISTINCT ON (s.trace_id) observability.hex_trace_id(s.trace_id), s.name, s.operation, s.target,
                   s.status_message
            FROM observability.spans s
            WHERE s.trace_id = ANY(\(ids)) AND s.status = 'error' AND s.start_time >= \(from) AND s.start_time <= \(until)
              AND NOT EXISTS (
                    SELECT 1 FROM observability.spans c
                    WHERE c.trace_id = s.trace_id AND c.parent_span_id = s.span_id AND c.status = 'error'
                      AND c.start_time >= \(from) AND c.start_time <= \(until))
            ORDER BY s.trace_id, s.start_time
            """
        var found: [String: FailedSpan] = [:]
        let rows = try await client.tracedQuery(query, logger: logger).decode(
            (String, String, SpanOperation, String?, String?).self)
        for (traceID, name, operation, target, message) in rows {
            found[traceID] = FailedSpan(name: name, operation: operation, target: target, message: message)
        }
        for index in traces.indices where traces[index].errorCount > 0 {
            traces[index].firstError = found[traces[index].traceID]
        }
    }
}

extension PostgresQuery.StringInterpolation {
    /// The conditions on trace `t` that every trace list shares, whatever drives it (a
    /// time range, a target's spans, an export's pages): status, minimum duration, root
    /// name search, root service (the service's own traces only when named), and the
    /// server (``appendInterpolation(serverOf:)``).
    mutating func appendInterpolation(traceConditions filter: TraceFilter) {
        let pattern = filter.search.map { "%" + TraceStore.escapeLike($0) + "%" }
        appendLiteral("(")
        appendInterpolation(filter.status)
        appendLiteral("::text IS NULL OR t.status = ")
        appendInterpolation(filter.status)
        appendLiteral(") AND (")
        appendInterpolation(filter.minDurationMs)
        appendLiteral("::float8 IS NULL OR t.duration_ms >= ")
        appendInterpolation(filter.minDurationMs)
        appendLiteral(") AND (")
        appendInterpolation(pattern)
        appendLiteral("::text IS NULL OR t.root_name ILIKE ")
        appendInterpolation(pattern)
        appendLiteral(") AND (CASE WHEN ")
        appendInterpolation(filter.service)
        appendLiteral("::text IS NULL THEN t.service_name <> ")
        appendInterpolation(SelfService.name)
        appendLiteral(" ELSE t.service_name = ")
        appendInterpolation(filter.service)
        appendLiteral(" END) AND (")
        appendInterpolation(filter.maxDurationMs)
        appendLiteral("::float8 IS NULL OR t.duration_ms <= ")
        appendInterpolation(filter.maxDurationMs)
        // A session's traces, read once through the calls' session index (a hashed
        // subplan), not once per trace.
        appendLiteral(") AND (")
        appendInterpolation(filter.session)
        appendLiteral("::text IS NULL OR t.trace_id IN (SELECT c.trace_id FROM observability.calls c WHERE c.session_id = ")
        appendInterpolation(filter.session)
        appendLiteral(" AND c.start_time >= ")
        appendInterpolation(filter.since)
        appendLiteral(")) AND ")
        appendInterpolation(serverOf: filter)
    }

    /// The operation filter without a target as a condition on trace `t`: one of its
    /// spans is of that operation (read through the spans' trace-id index, its own days).
    mutating func appendInterpolation(operationOf filter: TraceFilter) {
        appendLiteral("(")
        appendInterpolation(filter.operation)
        appendLiteral("::text IS NULL OR EXISTS (SELECT 1 FROM observability.spans s")
        appendLiteral(" WHERE s.trace_id = t.trace_id AND s.operation = ")
        appendInterpolation(filter.operation)
        appendLiteral(" AND s.start_time >= t.start_time AND s.start_time <= t.end_time))")
    }

    /// The attribute conditions as a condition on trace `t`: one span of the trace meets
    /// them all (`TRUE` without any). Keys and values are bound; only the column name,
    /// one of a few fixed spellings, is part of the text. A resource condition holds when
    /// the span's inline resource (rows from before migration 0018) meets it, or when its
    /// `resource_id` is among the stored resources that do: that list is an uncorrelated
    /// subquery, read once per query rather than once per span.
    mutating func appendInterpolation(attributesOf filter: TraceFilter) {
        guard !filter.attributes.isEmpty else {
            appendLiteral("TRUE")
            return
        }
        appendLiteral("EXISTS (SELECT 1 FROM observability.spans s WHERE s.trace_id = t.trace_id")
        appendLiteral(" AND s.start_time >= t.start_time AND s.start_time <= t.end_time")
        for condition in filter.attributes {
            appendLiteral(" AND ")
            switch condition.scope {
            case .span:
                appendComparison(condition, on: "s.attributes")
            case .resource:
                appendLiteral("(")
                appendComparison(condition, on: "s.resource_attributes")
                appendLiteral(" OR s.resource_id = ANY (ARRAY(SELECT r.resource_id FROM observability.resources r WHERE ")
                appendComparison(condition, on: "r.attributes")
                appendLiteral(")))")
            }
        }
        appendLiteral(")")
    }

    /// One condition on a `jsonb` column. A numeric comparison looks at a JSON number only
    /// (a string holding digits is text, and never raises a cast error).
    private mutating func appendComparison(_ condition: AttributeCondition, on column: String) {
        switch condition.comparison {
        case .equals(let value):
            appendLiteral("\(column) ->> ")
            appendInterpolation(condition.key)
            appendLiteral(" = ")
            appendInterpolation(value)
        case .notEquals(let value):
            appendLiteral("\(column) ->> ")
            appendInterpolation(condition.key)
            appendLiteral(" <> ")
            appendInterpolation(value)
        case .exists:
            appendLiteral("(\(column) -> ")
            appendInterpolation(condition.key)
            appendLiteral(") IS NOT NULL")
        case .greaterThan(let number), .lessThan(let number):
            let comparison = if case .greaterThan = condition.comparison { " > " } else { " < " }
            appendLiteral("CASE WHEN jsonb_typeof(\(column) -> ")
            appendInterpolation(condition.key)
            appendLiteral(") = 'number' THEN (\(column) -> ")
            appendInterpolation(condition.key)
            appendLiteral(")::numeric\(comparison)")
            appendInterpolation(number)
            appendLiteral("::numeric ELSE false END")
        }
    }

    /// The server filter as a condition on trace `t`, written into both page queries of
    /// the trace list with its binds numbered in place: a counted call of the trace (the
    /// row the metrics count) at that server, with the method of an MCP `operation` and the
    /// `target` when those are set, so a metric row's traces are the requests it counted.
    /// A non-MCP operation has no method, so with a server it matches nothing. Reads the
    /// calls of the trace's own days through their trace-id index.
    fileprivate mutating func appendInterpolation(serverOf filter: TraceFilter) {
        appendLiteral("(")
        appendInterpolation(filter.server)
        appendLiteral("::text IS NULL OR EXISTS (SELECT 1 FROM observability.calls c")
        appendLiteral(" WHERE c.trace_id = t.trace_id AND c.counted AND c.server_name = ")
        appendInterpolation(filter.server)
        appendLiteral(" AND c.start_time >= t.start_time AND c.start_time <= t.end_time AND (")
        appendInterpolation(filter.target)
        appendLiteral("::text IS NULL OR c.target = ")
        appendInterpolation(filter.target)
        // The operation's MCP method (``SpanOperation/mcpMethod``); none for the others,
        // and `c.method = NULL` then matches nothing.
        appendLiteral(") AND (")
        appendInterpolation(filter.operation)
        appendLiteral("::text IS NULL OR c.method = ")
        appendInterpolation(filter.operation?.mcpMethod)
        appendLiteral("::text)))")
    }
}

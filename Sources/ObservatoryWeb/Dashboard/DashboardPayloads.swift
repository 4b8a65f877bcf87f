import Foundation
import ObservatoryStore

/// What the summary page shows, and what `GET /api/v1/metrics/summary` returns.
struct SummaryPayload: Sendable, Encodable {
    var window: MetricWindow
    /// Everything in the window; nil when it holds no span.
    var total: MetricRow?
    var topErrors: [MetricRow]
    var failedTraces: [TraceSummary]
    var recentTraces: [TraceSummary]
    var series: [SeriesPoint]
    var freshness: [WindowFreshness]

    enum CodingKeys: String, CodingKey {
        case window, total, topErrors = "top_errors", failedTraces = "failed_traces", recentTraces = "recent_traces"
        case series, freshness
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(window, forKey: .window)
        try json.encodeIfPresent(total.map(MetricRowJSON.init), forKey: .total)
        try json.encode(topErrors.map(MetricRowJSON.init), forKey: .topErrors)
        try json.encode(failedTraces.map(TraceSummaryJSON.init), forKey: .failedTraces)
        try json.encode(recentTraces.map(TraceSummaryJSON.init), forKey: .recentTraces)
        try json.encode(series.map(SeriesPointJSON.init), forKey: .series)
        try json.encode(freshness.map(WindowFreshnessJSON.init), forKey: .freshness)
    }
}

/// What a tools, prompts or resources page shows, and what its JSON twin returns.
struct OperationPayload: Sendable, Encodable {
    var kind: String
    var operation: SpanOperation
    var window: MetricWindow
    var limit: Int
    var sort: String
    var dir: String
    /// The kind as a whole over the window.
    var overall: MetricRow?
    var mostUsed: MetricRow?
    var slowest: MetricRow?
    var mostErrorProne: MetricRow?
    var rows: [MetricRow]
    var topErrors: [MetricRow]
    var freshness: WindowFreshness?

    enum CodingKeys: String, CodingKey {
        case kind, operation, window, limit, sort, dir, overall, rows, freshness
        case mostUsed = "most_used", slowest, mostErrorProne = "most_error_prone", topErrors = "top_errors"
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(kind, forKey: .kind)
        try json.encode(operation, forKey: .operation)
        try json.encode(window, forKey: .window)
        try json.encode(limit, forKey: .limit)
        try json.encode(sort, forKey: .sort)
        try json.encode(dir, forKey: .dir)
        try json.encodeIfPresent(overall.map(MetricRowJSON.init), forKey: .overall)
        try json.encodeIfPresent(mostUsed.map(MetricRowJSON.init), forKey: .mostUsed)
        try json.encodeIfPresent(slowest.map(MetricRowJSON.init), forKey: .slowest)
        try json.encodeIfPresent(mostErrorProne.map(MetricRowJSON.init), forKey: .mostErrorProne)
        try json.encode(rows.map(MetricRowJSON.init), forKey: .rows)
        try json.encode(topErrors.map(MetricRowJSON.init), forKey: .topErrors)
        try json.encodeIfPresent(freshness.map(WindowFreshnessJSON.init), forKey: .freshness)
    }
}

/// A page of the trace list.
struct TraceListPayload: Sendable, Encodable {
    var window: MetricWindow
    var status: SpanStatus?
    var operation: SpanOperation?
    var target: String?
    var minDurationMs: Double?
    var search: String?
    var service: String?
    var server: String?
    var maxDurationMs: Double?
    var session: String?
    var attributes: [AttributeCondition] = []
    var limit: Int
    var page: Int
    var hasNext: Bool
    /// The attribute search stopped after ``TraceStore/attributeScanLimit`` traces: older
    /// matches may exist (a narrower window finds them).
    var bounded = false
    var traces: [TraceSummary]

    enum CodingKeys: String, CodingKey {
        case window, status, operation, target, minDurationMs = "min_ms", search = "q", service, server, limit, page
        case maxDurationMs = "max_ms", session, attributes = "attr", bounded
        case scanLimit = "scan_limit"
        case hasNext = "has_next", traces
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(window, forKey: .window)
        try json.encodeIfPresent(status, forKey: .status)
        try json.encodeIfPresent(operation, forKey: .operation)
        try json.encodeIfPresent(target, forKey: .target)
        try json.encodeIfPresent(minDurationMs, forKey: .minDurationMs)
        try json.encodeIfPresent(search, forKey: .search)
        try json.encodeIfPresent(service, forKey: .service)
        try json.encodeIfPresent(server, forKey: .server)
        try json.encodeIfPresent(maxDurationMs, forKey: .maxDurationMs)
        try json.encodeIfPresent(session, forKey: .session)
        try json.encode(attributes.map(\.text), forKey: .attributes)
        try json.encode(limit, forKey: .limit)
        try json.encode(page, forKey: .page)
        try json.encode(hasNext, forKey: .hasNext)
        try json.encode(bounded, forKey: .bounded)
        if bounded { try json.encode(TraceStore.attributeScanLimit, forKey: .scanLimit) }
        try json.encode(traces.map(TraceSummaryJSON.init), forKey: .traces)
    }
}

/// One trace: its layout (tree order, depth, critical path) and its stored spans. The
/// API answer (`json`, TraceTimeline+JSON.swift) carries per span only the columns the
/// layout does not: exact times, scope, attributes and events.
struct TraceDetailPayload: Sendable {
    var trace: TraceTimeline
    var spans: [StoredSpan]
    /// The MCP calls assembled from the trace's spans (none until it settled).
    var calls: [StoredCall] = []
}

/// Assembles the payloads from the stores. Pages and the JSON API both call it, so the
/// two can never disagree.
struct DashboardData: Sendable {
    let metrics: MetricsStore
    let traces: TraceStore
    let calls: CallStore
    let now: @Sendable () -> Date

    func summary(_ query: MetricsQuery) async throws(DatabaseError) -> SummaryPayload {
        let window = query.window
        let since = now().addingTimeInterval(-Double(window.seconds))
        return SummaryPayload(
            window: window,
            total: try await metrics.aggregate(window: window, operation: nil),
            topErrors: try await metrics.errorProne(window: window, operation: nil, limit: query.limit),
            failedTraces: try await traces.list(TraceFilter(since: since, status: .error, limit: query.limit)).prefix(query.limit)
                .map { $0 },
            recentTraces: try await traces.list(TraceFilter(since: since, limit: query.limit)).prefix(query.limit).map { $0 },
            series: try await metrics.series(window: window, now: now()),
            freshness: try await metrics.freshness())
    }

    func operations(_ page: OperationPage, _ query: MetricsQuery) async throws(DatabaseError) -> OperationPayload {
        let operation = page.operation
        let window = query.window
        return OperationPayload(
            kind: page.rawValue, operation: operation, window: window, limit: query.limit, sort: query.sort.rawValue,
            dir: query.descending ? "desc" : "asc",
            overall: try await metrics.aggregate(window: window, operation: operation),
            mostUsed: try await metrics.targets(
                window: window, operation: operation, server: query.server, sort: .count, limit: 1
            ).first,
            slowest: try await metrics.targets(
                window: window, operation: operation, server: query.server, sort: .p99, limit: 1
            ).first,
            mostErrorProne: try await metrics.errorProne(window: window, operation: operation, limit: 1).first,
            rows: try await metrics.targets(
                window: window, operation: operation, server: query.server, sort: query.sort,
                descending: query.descending, limit: query.limit),
            topErrors: try await metrics.errorProne(window: window, operation: operation, limit: 10),
            freshness: try await metrics.freshness().first { $0.window == window })
    }

    func traceList(_ query: TraceListQuery) async throws(DatabaseError) -> TraceListPayload {
        let filter = query.filter(now: now())
        let found = try await traces.list(filter)
        // A full page holds the newest matches; only a short one may have stopped early.
        let bounded = found.count <= query.limit ? try await traces.searchWasBounded(filter) : false
        return TraceListPayload(
            window: query.window, status: query.status, operation: query.operation, target: query.target,
            minDurationMs: query.minDurationMs, search: query.search, service: query.service, server: query.server,
            maxDurationMs: query.maxDurationMs, session: query.session, attributes: query.attributes,
            limit: query.limit, page: query.page,
            hasNext: found.count > query.limit, bounded: bounded, traces: Array(found.prefix(query.limit)))
    }

    /// nil when no trace has this id.
    func trace(_ id: TraceID) async throws(DatabaseError) -> TraceDetailPayload? {
        guard let summary = try await traces.summary(id) else { return nil }
        // Three independent reads bounded by the summary's times, each on a connection of
        // its own: the 1,000-span page waits for the slowest of them, not for their sum.
        let (from, through) = (summary.startTime, summary.endTime)
        async let spansRead = Self.result { [traces] () async throws(DatabaseError) in
            try await traces.spans(id, from: from, through: through)
        }
        async let callsRead = Self.result { [calls] () async throws(DatabaseError) in
            try await calls.calls(trace: id, from: from, through: through)
        }
        async let ranksRead = Self.result { [traces] () async throws(DatabaseError) in
            try await traces.ranks(id, from: from, through: through)
        }
        let (spans, calls, ranks) = try await (spansRead.get(), callsRead.get(), ranksRead.get())
        return await TraceWork.run {
            var timeline = TraceTimeline(summary: summary, spans: spans)
            timeline.attach(ranks: ranks)
            return TraceDetailPayload(trace: timeline, spans: spans, calls: calls)
        }
    }

    /// `read`'s answer or its error as a value: `async let` loses a typed error, a
    /// `Result` keeps it.
    static func result<T: Sendable>(
        _ read: @Sendable () async throws(DatabaseError) -> T
    ) async -> Result<T, DatabaseError> {
        do { return .success(try await read()) } catch { return .failure(error) }
    }

    /// One MCP session's requests in start order, at most ``SessionPayload/limit``.
    func session(_ sessionID: String) async throws(DatabaseError) -> SessionPayload {
        let found = try await calls.session(sessionID, limit: SessionPayload.limit)
        return SessionPayload(
            sessionID: sessionID, calls: Array(found.prefix(SessionPayload.limit)),
            truncated: found.count > SessionPayload.limit)
    }
}

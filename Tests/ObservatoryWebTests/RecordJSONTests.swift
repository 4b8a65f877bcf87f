import Foundation
import XCTest

@testable import ObservatoryStore
@testable import ObservatoryWeb

/// The JSON API's names for the store's records (docs/api.md), byte for byte: the
/// records carry Swift names only, and the web layer writes them as documented.
final class RecordJSONTests: XCTestCase {
    static let now = Date(timeIntervalSince1970: 1_764_111_419.5)
    static let stamp = "2025-11-25T22:56:59.500000Z"

    static func row(_ level: MetricLevel, _ operation: SpanOperation?, _ target: String, example: String?) -> MetricRow {
        MetricRow(
            level: level, operation: operation, target: target, requestCount: 3, errorCount: 1, errorPct: 33.5, health: .red,
            avgMs: 1.25, p50Ms: 1.5, p90Ms: 2.5, p95Ms: 3.5, p99Ms: 4.5, maxMs: 5.5, firstSeen: now, lastSeen: now,
            exampleError: example, computedAt: now)
    }

    static func encoded(_ value: some Encodable) throws -> String {
        String(decoding: try APIJSON.encoder().encode(value), as: UTF8.self)
    }

    func testMetricRowsUseTheViewsColumnNames() throws {
        let figures = #""error_count":1,"error_pct":33.5"#
        let percentiles = #""max_ms":5.5"#
        XCTAssertEqual(
            try Self.encoded(MetricRowJSON(Self.row(.total, nil, "", example: nil))),
            #"{"avg_ms":1.25,"computed_at":"\#(Self.stamp)",\#(figures),"first_seen":"\#(Self.stamp)","health":"red","#
                + #""last_seen":"\#(Self.stamp)","level":"total",\#(percentiles),"operation":"","p50_ms":1.5,"p90_ms":2.5,"#
                + #""p95_ms":3.5,"p99_ms":4.5,"request_count":3,"server":"","target":""}"#)
        XCTAssertEqual(
            try Self.encoded(MetricRowJSON(Self.row(.target, .toolInvoke, "get weather", example: "boom"))),
            #"{"avg_ms":1.25,"computed_at":"\#(Self.stamp)",\#(figures),"example_error":"boom","#
                + #""first_seen":"\#(Self.stamp)","health":"red","last_seen":"\#(Self.stamp)","level":"target","#
                + #"\#(percentiles),"operation":"tool_invoke","p50_ms":1.5,"p90_ms":2.5,"p95_ms":3.5,"p99_ms":4.5,"#
                + #""request_count":3,"server":"","target":"get weather"}"#)
        // A tool seen only by its clients: no server durations, the client's apart.
        var clientOnly = Self.row(.target, .toolInvoke, "add", example: nil)
        clientOnly.server = "demo"
        (clientOnly.avgMs, clientOnly.p50Ms, clientOnly.p90Ms, clientOnly.p95Ms, clientOnly.p99Ms) = (nil, nil, nil, nil, nil)
        clientOnly.maxMs = nil
        clientOnly.client = ClientLatency(avgMs: 6, p50Ms: 7, p90Ms: 8, p95Ms: 9, p99Ms: 10, overheadMs: nil)
        XCTAssertEqual(
            try Self.encoded(MetricRowJSON(clientOnly)),
            #"{"client_avg_ms":6,"client_p50_ms":7,"client_p90_ms":8,"client_p95_ms":9,"client_p99_ms":10,"#
                + #""computed_at":"\#(Self.stamp)",\#(figures),"first_seen":"\#(Self.stamp)","health":"red","#
                + #""last_seen":"\#(Self.stamp)","level":"target","operation":"tool_invoke","request_count":3,"#
                + #""server":"demo","target":"add"}"#)
    }

    func testTracesPointsAndFreshness() throws {
        var trace = TraceSummary(
            traceID: String(repeating: "ab", count: 16), rootName: "POST /mcp", serviceName: "gw", startTime: Self.now,
            endTime: Self.now, durationMs: 12.5, spanCount: 2, errorCount: 0, status: .ok, firstError: nil)
        let head = #"{"duration_ms":12.5,"end_time":"\#(Self.stamp)","error_count":"#
        let tail =
            #""root_name":"POST /mcp","service_name":"gw","span_count":2,"start_time":"\#(Self.stamp)","status":"#
        XCTAssertEqual(
            try Self.encoded(TraceSummaryJSON(trace: trace)),
            head + "0," + tail + #""ok","trace_id":"\#(trace.traceID)"}"#)
        trace.errorCount = 1
        trace.status = .error
        trace.firstError = FailedSpan(name: "tools/call x", operation: .toolInvoke, target: nil, message: "boom")
        XCTAssertEqual(
            try Self.encoded(TraceSummaryJSON(trace: trace)),
            head + #"1,"first_error":{"message":"boom","name":"tools/call x","operation":"tool_invoke"},"# + tail
                + #""error","trace_id":"\#(trace.traceID)"}"#)

        XCTAssertEqual(
            try Self.encoded(SeriesPointJSON(point: SeriesPoint(bucket: Self.now, requestCount: 0, errorCount: 0, p95Ms: nil))),
            #"{"bucket":"\#(Self.stamp)","error_count":0,"request_count":0}"#)
        XCTAssertEqual(
            try Self.encoded(SeriesPointJSON(point: SeriesPoint(bucket: Self.now, requestCount: 4, errorCount: 1, p95Ms: 7.5))),
            #"{"bucket":"\#(Self.stamp)","error_count":1,"p95_ms":7.5,"request_count":4}"#)

        var freshness = WindowFreshness(window: .day, lastRefreshedAt: nil, lastDurationMs: nil, refreshEverySeconds: 300)
        XCTAssertEqual(
            try Self.encoded(WindowFreshnessJSON(freshness: freshness)), #"{"refresh_every_seconds":300,"time_window":"24h"}"#)
        freshness.lastRefreshedAt = Self.now
        freshness.lastDurationMs = 42.5
        XCTAssertEqual(
            try Self.encoded(WindowFreshnessJSON(freshness: freshness)),
            #"{"last_duration_ms":42.5,"last_refreshed_at":"\#(Self.stamp)","refresh_every_seconds":300,"time_window":"24h"}"#)
    }

    /// The payloads write the records through the same types, and leave out what is nil.
    func testPayloads() throws {
        let row = Self.row(.operation, .toolInvoke, "", example: nil)
        let rowJSON = try Self.encoded(MetricRowJSON(row))
        let operations = OperationPayload(
            kind: "tools", operation: .toolInvoke, window: .week, limit: 20, sort: "count", dir: "desc", overall: row,
            mostUsed: nil, slowest: row, mostErrorProne: nil, rows: [row], topErrors: [], freshness: nil)
        XCTAssertEqual(
            try Self.encoded(operations),
            #"{"dir":"desc","kind":"tools","limit":20,"operation":"tool_invoke","overall":\#(rowJSON),"rows":[\#(rowJSON)],"#
                + #""slowest":\#(rowJSON),"sort":"count","top_errors":[],"window":"7d"}"#)

        let summary = SummaryPayload(
            window: .hour, total: nil, topErrors: [], failedTraces: [], recentTraces: [], series: [], freshness: [])
        XCTAssertEqual(
            try Self.encoded(summary),
            #"{"failed_traces":[],"freshness":[],"recent_traces":[],"series":[],"top_errors":[],"window":"1h"}"#)

        let list = TraceListPayload(
            window: .month, status: .error, operation: .dbQuery, target: nil, minDurationMs: 250, search: nil, limit: 50,
            page: 2, hasNext: false, traces: [])
        XCTAssertEqual(
            try Self.encoded(list),
            #"{"attr":[],"bounded":false,"has_next":false,"limit":50,"min_ms":250,"operation":"db_query","page":2,"#
                + #""status":"error","traces":[],"window":"30d"}"#)

        // A bounded attribute search says how many traces it checked.
        let searched = TraceListPayload(
            window: .day, target: nil, search: nil, maxDurationMs: 10, session: "s",
            attributes: [AttributeCondition(scope: .resource, key: "a b", comparison: .greaterThan(2))], limit: 20, page: 1,
            hasNext: false, bounded: true, traces: [])
        XCTAssertEqual(
            try Self.encoded(searched),
            #"{"attr":["resource:a b>2"],"bounded":true,"has_next":false,"limit":20,"max_ms":10,"page":1,"scan_limit":1000,"#
                + #""session":"s","traces":[],"window":"24h"}"#)
    }
}

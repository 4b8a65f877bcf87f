import Foundation
import ObservatoryStore
import XCTest

@testable import ObservatoryWeb

/// The key-path tables the templates read must name every stored property of each view
/// model, and nothing else; a property added without its entry would render as empty.
final class MustacheFieldsTests: XCTestCase {
    static func check<T: MustacheFields>(_ value: T, file: StaticString = #filePath, line: UInt = #line) {
        let stored = Set(Mirror(reflecting: value).children.compactMap(\.label))
        XCTAssertEqual(Set(T.mustacheFields.keys), stored, "\(T.self)", file: file, line: line)
    }

    func testEveryViewModelListsItsStoredProperties() throws {
        let now = Date()
        let chrome = Chrome(title: "t", chartsAvailable: true, refreshSeconds: 60)
        let row = MetricRow(
            level: "target", operation: "tool_invoke", target: "x", requestCount: 1, errorCount: 0, errorPct: 0,
            health: "green", avgMs: 1, p50Ms: 1, p90Ms: 1, p95Ms: 1, p99Ms: 1, maxMs: 1, firstSeen: now, lastSeen: now,
            exampleError: nil, computedAt: now)
        let summary = TraceSummary(
            traceID: String(repeating: "a", count: 32), rootName: "r", serviceName: "s", startTime: now, endTime: now,
            durationMs: 0, spanCount: 1, errorCount: 0, status: "ok", firstError: nil)
        let span = StoredSpan(
            spanID: String(repeating: "b", count: 16), parentSpanID: nil, name: "r", kind: "server", operation: "internal",
            target: nil, serviceName: "s", scopeName: nil, startTime: now, endTime: now, durationMs: 0, status: "ok",
            statusMessage: nil, attributesJSON: #"{"k":"v"}"#, resourceAttributesJSON: "{}",
            eventsJSON: #"[{"name":"exception","time":"2026-01-01T00:00:00Z","attributes":{"exception.stacktrace":"at x"}}]"#)
        Self.check(chrome)
        Self.check(ReplicaLag.line(ReplicaStatus(inRecovery: true, lagSeconds: 1)))
        Self.check(Option(value: "v", label: "l", selected: true))
        Self.check(Header(key: "k", label: "l", sortClass: "", numeric: true))
        Self.check(Card(label: "l", value: "v", detail: "d", health: "green"))
        Self.check(MetricRowView(row, window: .day))
        Self.check(TraceRowView(summary))
        Self.check(DashboardController.MessageView(chrome: chrome, heading: "h", text: "t", status: 200))
        let savedView = SavedView(id: 1, name: "n", page: "traces", query: "window=1h")
        Self.check(SaveViewForm(page: "traces", query: "window=1h"))
        Self.check(SavedViewLink(savedView))
        Self.check(SavedViewRow(savedView))
        Self.check(SavedViewsView(chrome: chrome, views: [SavedViewRow(savedView)]))
        Self.check(SavedViewDeletion(chrome: chrome, view: SavedViewRow(savedView)))
        let query = try MetricsQuery([:])
        Self.check(
            try OperationView(
                page: .tools, query: query,
                payload: OperationPayload(
                    kind: "tools", operation: "tool_invoke", window: .day, limit: 20, sort: "count", dir: "desc", overall: row,
                    mostUsed: row, slowest: row, mostErrorProne: row, rows: [row], topErrors: [row], freshness: nil),
                chrome: chrome, now: now))
        Self.check(
            try SummaryView(
                query: query,
                payload: SummaryPayload(
                    window: .day, total: row, topErrors: [row], failedTraces: [summary], recentTraces: [summary], series: [],
                    freshness: []),
                chrome: chrome, now: now))
        let listQuery = try TraceListQuery([:])
        Self.check(
            TraceListView(
                query: listQuery,
                payload: TraceListPayload(
                    window: .day, status: nil, operation: nil, target: nil, minDurationMs: nil, search: nil, limit: 50, page: 1,
                    hasNext: false, traces: [summary]),
                chrome: chrome))
        let trace = try TraceView(
            payload: TraceDetailPayload(trace: TraceTimeline(summary: summary, spans: [span]), spans: [span]), chrome: chrome)
        Self.check(trace)
        let resource = try XCTUnwrap(trace.resources.first)
        Self.check(resource)
        XCTAssertTrue(trace.spanRowsHTML.contains("<pre class=\"stacktrace\">at x</pre>"))
        XCTAssertTrue(trace.spanRowsHTML.contains("<dt>k</dt><dd>v</dd>"))
        let comparedTrace = ComparePayload.Trace(summary: summary, spans: [span])
        let compareQuery = CompareQuery(a: TraceID(high: 1, low: 1), against: .typical(.day))
        let compared = CompareView(
            payload: ComparePayload(
                query: compareQuery, a: comparedTrace, b: comparedTrace, typical: nil,
                aligned: [
                    AlignedSpan(
                        depth: 0, serviceName: "s", name: "r", target: nil, operation: .internal, ordinal: 1, repeatsA: 1,
                        repeatsB: 1, spanIDA: span.spanID, spanIDB: span.spanID, durationA: 0, durationB: 0, statusA: .ok,
                        statusB: .ok, tracesB: 1)
                ]), chrome: chrome)
        Self.check(compared)
        Self.check(compared.a)
        let call = StoredCall(
            traceID: String(repeating: "a", count: 32), side: .server, spanID: String(repeating: "b", count: 16),
            spanIDs: [String(repeating: "b", count: 16)], method: "tools/call", target: "add", server: "demo",
            client: "agent", service: "demo-svc", sessionID: "s 1", startTime: now, durationMs: 3, clientDurationMs: 5,
            serverDurationMs: 3, failed: false, requestFailed: true, errorMessage: "boom", counted: true)
        let session = SessionView(
            payload: SessionPayload(sessionID: "s 1", calls: [call], truncated: false), chrome: chrome)
        Self.check(session)
        let rows = session.callRowsHTML
        XCTAssertTrue(rows.hasPrefix("<tr id=\"call-1\" class=\"call-row counted\" data-side=\"server\">"), rows)
        XCTAssertTrue(rows.contains("<a href=\"/admin/observability/sessions/s%201\" class=\"session-link\">s 1</a>"), rows)
        XCTAssertTrue(
            rows.contains(
                "<a href=\"/admin/observability/traces/\(call.traceID)#span-\(call.spanID)\" class=\"span-link\">bbbbbb</a>"),
            rows)
        XCTAssertTrue(rows.contains("<span class=\"badge status-error\" title=\"this side: ok\">error</span>"), rows)
        XCTAssertTrue(rows.contains("<div class=\"example-error\" title=\"boom\">boom</div>"), rows)

        var spanCall = call
        spanCall.spanIDs = [span.spanID]
        let marked = SpanTable.rows(
            timeline: TraceTimeline(summary: summary, spans: [span]), stored: [span], rows: 0..<1, calls: [spanCall])
        XCTAssertTrue(
            marked.contains(
                "<a class=\"badge call\" href=\"#call-1\" title=\"part of MCP call 1, server side\">call 1 · server</a>"),
            marked)
        XCTAssertFalse(
            SpanTable.rows(timeline: TraceTimeline(summary: summary, spans: [span]), stored: [span], rows: 0..<1)
                .contains("badge call"))

        var hostile = call
        hostile.target = "<script>alert(1)</script>"
        hostile.errorMessage = "\"><img src=x onerror=alert(2)>"
        hostile.server = "a&b"
        hostile.sessionID = "'><b>"
        let escaped = CallTable.rows([hostile])
        XCTAssertFalse(escaped.contains("<script>") || escaped.contains("<img") || escaped.contains("<b>"), escaped)
        XCTAssertTrue(escaped.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), escaped)
        XCTAssertTrue(escaped.contains("a&amp;b"), escaped)
    }
}

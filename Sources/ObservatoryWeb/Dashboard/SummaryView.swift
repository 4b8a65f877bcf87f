import Foundation
import ObservatoryStore

/// The summary page (templates `summary` and `summary_body`).
struct SummaryView: Sendable {
    var chrome: Chrome
    var path = "/admin/observability/metrics"
    var fragmentURL: String
    var apiURL: String
    var windowLabel: String
    var windows: [Option]
    var limits: [Option]
    var autoRefresh: Bool
    var freshness: String
    var cards: [Card]
    var topErrors: [MetricRowView]
    var failedTraces: [TraceRowView]
    var recentTraces: [TraceRowView]
    var failedTracesURL: String
    var allTracesURL: String
    var chartJSON: String

    /// Data for charts.js: requests, errors and p95 per bucket.
    struct Charts: Encodable {
        struct Series: Encodable {
            var labels: [String]
            var requests: [Int]
            var errors: [Int]
            var p95_ms: [Double?]
        }
        var page = "summary"
        var series: Series
    }

    init(query: MetricsQuery, payload: SummaryPayload, chrome: Chrome, now: Date) throws {
        self.chrome = chrome
        let items = [
            URLQueryItem(name: "window", value: query.window.rawValue), URLQueryItem(name: "limit", value: String(query.limit)),
        ]
        fragmentURL = link(path + "/fragment", items)
        apiURL = link("/api/v1/metrics/summary", items)
        windowLabel = query.window.rawValue
        windows = windowOptions(query.window)
        limits = limitOptions(MetricsQuery.limits, selected: query.limit)
        autoRefresh = query.autoRefresh
        freshness = freshnessLine(payload.freshness.first { $0.window == query.window }, now: now)
        let total = payload.total
        cards = [
            Card(
                label: "Requests", value: total.map { Format.count($0.requestCount) } ?? "0",
                detail: "MCP requests (each once) and HTTP, query and other spans in the last \(query.window.rawValue)",
                health: "none"),
            Card(
                label: "Error rate", value: total.map { Format.percent($0.errorPct) } ?? "–",
                detail: total.map { "\(Format.count($0.errorCount)) failed" } ?? "no spans in this window",
                health: healthClass(total?.health)),
            Card(
                label: "p95 latency", value: total.map { Format.duration($0.p95Ms) } ?? "–",
                detail: total.map { "p50 \(Format.duration($0.p50Ms)), p99 \(Format.duration($0.p99Ms))" } ?? "",
                health: "none"),
            Card(
                label: "Most error-prone",
                value: payload.topErrors.first.map { $0.target.isEmpty ? "(unnamed)" : $0.target } ?? "–",
                detail: payload.topErrors.first.map { "\($0.operationName): \(Format.percent($0.errorPct)) errors" }
                    ?? "no errors in this window",
                health: healthClass(payload.topErrors.first?.health)),
        ]
        // Each row leads to its failed requests, not to all of them.
        topErrors = payload.topErrors.map { row in
            var view = MetricRowView(row, window: query.window)
            view.href += "&status=\(SpanStatus.error.rawValue)"
            return view
        }
        failedTraces = payload.failedTraces.map(TraceRowView.init)
        recentTraces = payload.recentTraces.map(TraceRowView.init)
        failedTracesURL = link(
            "/admin/observability/traces",
            [
                URLQueryItem(name: "window", value: query.window.rawValue),
                URLQueryItem(name: "status", value: SpanStatus.error.rawValue),
            ])
        allTracesURL = link("/admin/observability/traces", [URLQueryItem(name: "window", value: query.window.rawValue)])
        let iso = ISO8601DateFormatter()
        chartJSON = try ScriptJSON.encode(
            Charts(
                series: .init(
                    labels: payload.series.map { iso.string(from: $0.bucket) },
                    requests: payload.series.map(\.requestCount),
                    errors: payload.series.map(\.errorCount),
                    p95_ms: payload.series.map(\.p95Ms))))
    }
}

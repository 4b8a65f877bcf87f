import Foundation
import ObservatoryStore

/// The tools, prompts and resources page (templates `operations` and its fragment
/// `operations_body`).
struct OperationView: Sendable {
    var chrome: Chrome
    var kind: String
    var noun: String
    var nameHeader: String
    var path: String
    var fragmentURL: String
    var apiURL: String
    var windowLabel: String
    var windows: [Option]
    var limits: [Option]
    var sort: String
    var dir: String
    /// The server filter, empty for all servers.
    var server: String
    var autoRefresh: Bool
    var freshness: String
    var hasRows: Bool
    var cards: [Card]
    var headers: [Header]
    var rows: [MetricRowView]
    var chartJSON: String

    /// Data for charts.js: the table's rows and the top error-prone targets.
    struct Charts: Encodable {
        struct Row: Encodable {
            var name: String
            var count: Int
            var avg_ms: Double?
            var p95_ms: Double?
            var p99_ms: Double?
            /// The request at p95 (``ExemplarQuery``): the latency chart's marker opens it.
            var p95_url: String?
            var error_pct: Double
            var health: Health
        }
        struct ErrorRow: Encodable {
            var name: String
            var error_pct: Double
            var error_count: Int
            var health: Health
        }
        var page = "kind"
        var rows: [Row]
        var top_errors: [ErrorRow]
    }

    init(page: OperationPage, query: MetricsQuery, payload: OperationPayload, chrome: Chrome, now: Date) throws {
        self.chrome = chrome
        kind = page.rawValue
        noun = page.noun
        nameHeader = page.nameHeader
        path = "/admin/observability/\(page.rawValue)"
        fragmentURL = link(path + "/fragment", query.queryItems)
        apiURL = link("/api/v1/metrics/\(page.rawValue)", query.queryItems)
        windowLabel = query.window.rawValue
        windows = windowOptions(query.window)
        limits = limitOptions(MetricsQuery.limits, selected: query.limit)
        sort = query.sort.rawValue
        server = query.server ?? ""
        dir = query.descending ? "desc" : "asc"
        autoRefresh = query.autoRefresh
        freshness = freshnessLine(payload.freshness, now: now)
        hasRows = !payload.rows.isEmpty
        rows = payload.rows.map { MetricRowView($0, window: query.window) }

        func name(_ row: MetricRow?) -> String { row.map { $0.target.isEmpty ? "(unnamed)" : $0.target } ?? "–" }
        // A target served by several servers has a row per server: the cards name the server.
        func onServer(_ row: MetricRow?) -> String {
            guard let server = row?.server, !server.isEmpty else { return "" }
            return " on \(server)"
        }
        let overall = payload.overall
        cards = [
            Card(
                label: "Overall health",
                value: overall.map { Format.percent(100 - $0.errorPct) + " ok" } ?? "–",
                detail: overall.map { "\(Format.count($0.requestCount)) requests, \(Format.count($0.errorCount)) failed" }
                    ?? "no \(page.noun) calls in this window",
                health: healthClass(overall?.health)),
            Card(
                label: "Most used", value: name(payload.mostUsed),
                detail: payload.mostUsed.map { "\(Format.count($0.requestCount)) requests\(onServer($0))" } ?? "",
                health: "none"),
            Card(
                label: "Slowest (p99)", value: name(payload.slowest),
                detail: payload.slowest.map { "p99 \(Format.duration($0.p99Ms ?? $0.client?.p99Ms))\(onServer($0))" } ?? "",
                health: "none"),
            Card(
                label: "Most error-prone", value: name(payload.mostErrorProne),
                detail: payload.mostErrorProne.map {
                    "\(Format.percent($0.errorPct)) errors (\(Format.count($0.errorCount)) of \(Format.count($0.requestCount)))"
                } ?? "no errors in this window",
                health: healthClass(payload.mostErrorProne?.health)),
        ]
        // p50 … p99 are what the server measured; the client columns what the caller
        // waited, and the overhead the difference (transport, gateways).
        let columns: [(MetricSort, String)] = [
            (.name, page.nameHeader), (.server, "Server"), (.count, "Requests"), (.p50, "p50"), (.p90, "p90"),
            (.p95, "p95"), (.p99, "p99"), (.clientP95, "Client p95"), (.overhead, "Overhead"), (.errors, "Error rate"),
            (.lastSeen, "Last used"),
        ]
        headers = columns.map { sort, label in
            Header(
                key: sort.rawValue, label: label,
                sortClass: sort == query.sort ? (query.descending ? "sorted-desc" : "sorted-asc") : "",
                numeric: sort != .name && sort != .server && sort != .lastSeen)
        }
        chartJSON = try ScriptJSON.encode(
            Charts(
                rows: payload.rows.map {
                    .init(
                        name: name($0), count: $0.requestCount, avg_ms: $0.avgMs, p95_ms: $0.p95Ms, p99_ms: $0.p99Ms,
                        p95_url: ExemplarQuery.link($0, window: query.window, percentile: 95), error_pct: $0.errorPct,
                        health: $0.health)
                },
                top_errors: payload.topErrors.map {
                    .init(name: name($0), error_pct: $0.errorPct, error_count: $0.errorCount, health: $0.health)
                }))
    }
}

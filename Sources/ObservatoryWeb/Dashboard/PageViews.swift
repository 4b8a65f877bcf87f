import Foundation
import ObservatoryStore

// What the mustache templates read. Mustache reflects stored properties only, so every
// figure arrives here already formatted; `{{…}}` HTML-escapes all of it. Raw numbers
// travel in `data-value` attributes for the table sort, and in the JSON blocks for the
// scripts (escaped by ScriptJSON).

/// The parts every page shares: title, the active navigation entry, whether Chart.js can
/// be loaded, the auto-refresh interval.
struct Chrome: Sendable {
    var title: String
    var navSummary = false
    var navTools = false
    var navPrompts = false
    var navResources = false
    var navTraces = false
    var chartsAvailable: Bool
    var refreshSeconds: Int
    /// Where the figures come from when they come from a read replica; nil without one.
    var replica: ReplicaLine?
    /// The saved views, for the navigation's list.
    var views: [SavedViewLink] = []
    /// On a list page: its name and filters, for the "Save view" form; nil elsewhere.
    var saveView: SaveViewForm?
}

/// The hidden fields of the "Save view" form of a list page.
struct SaveViewForm: Sendable {
    var page: String
    /// The page's current filters as a query string (checked again when posted).
    var query: String
}

/// The pages' line about the read replica (`OBSERVABILITY_READ_DATABASE_URL`): how far its
/// replay is behind, or that it is unavailable. Written by ``ReplicaLag/line(_:)``.
struct ReplicaLine: Sendable {
    var text: String
    /// `current`, `behind`, `unknown`, `primary` or `unavailable`: the line's class.
    var state: String
    /// The tooltip: what the line means.
    var title: String
}

/// An `<option>` of a filter.
struct Option: Sendable {
    var value: String
    var label: String
    var selected: Bool
}

/// A sortable column header; `sortClass` marks the column the server sorted by.
struct Header: Sendable {
    var key: String
    var label: String
    var sortClass: String
    /// Right-aligned, and sorted largest first on the first click.
    var numeric: Bool
}

/// A summary card.
struct Card: Sendable {
    var label: String
    var value: String
    var detail: String
    /// The card's `health-` class: see `healthClass`.
    var health: String
}

/// The `health-` class of a card or row: the health's name, or `none` for a figure that
/// has no health (a count, a latency, an empty window).
func healthClass(_ health: Health?) -> String {
    health?.rawValue ?? "none"
}

/// A row of a metrics table. Durations a row lacks (no server side recorded, no client
/// side) read "–"; their `*Ms` sort values are empty strings, which sort as nothing.
struct MetricRowView: Sendable {
    var name: String
    var operation: String
    /// The MCP server; "–" for rows without one.
    var server: String
    var href: String
    var count: Int
    var countText: String
    var avgMs: String
    var avgText: String
    var p50Ms: String
    var p50Text: String
    var p90Ms: String
    var p90Text: String
    var p95Ms: String
    var p95Text: String
    var p99Ms: String
    var p99Text: String
    /// The requests at p50, p95 and p99 (``ExemplarQuery``); nil on rows counted from spans.
    var p50URL: String?
    var p95URL: String?
    var p99URL: String?
    var clientP50Ms: String
    var clientP50Text: String
    var clientP95Ms: String
    var clientP95Text: String
    var overheadMs: String
    var overheadText: String
    var errorCount: Int
    var errorCountText: String
    var errorPct: Double
    var errorText: String
    var health: String
    var lastSeen: Double
    var lastSeenText: String
    var exampleError: String?

    init(_ row: MetricRow, window: MetricWindow) {
        name = row.target.isEmpty ? "(unnamed)" : row.target
        operation = row.operationName
        server = row.server.isEmpty ? "–" : row.server
        // The row's requests: its server too, when it has one (MCP rows; HTTP and DB have none).
        href = link(
            "/admin/observability/traces",
            [
                URLQueryItem(name: "window", value: window.rawValue), URLQueryItem(name: "operation", value: row.operationName),
                URLQueryItem(name: "target", value: row.target),
            ] + (row.server.isEmpty ? [] : [URLQueryItem(name: "server", value: row.server)]))
        count = row.requestCount
        countText = Format.count(row.requestCount)
        avgMs = sortValue(row.avgMs)
        avgText = Format.duration(row.avgMs)
        p50Ms = sortValue(row.p50Ms)
        p50Text = Format.duration(row.p50Ms)
        p90Ms = sortValue(row.p90Ms)
        p90Text = Format.duration(row.p90Ms)
        p95Ms = sortValue(row.p95Ms)
        p95Text = Format.duration(row.p95Ms)
        p99Ms = sortValue(row.p99Ms)
        p99Text = Format.duration(row.p99Ms)
        p50URL = ExemplarQuery.link(row, window: window, percentile: 50)
        p95URL = ExemplarQuery.link(row, window: window, percentile: 95)
        p99URL = ExemplarQuery.link(row, window: window, percentile: 99)
        clientP50Ms = sortValue(row.client?.p50Ms)
        clientP50Text = Format.duration(row.client?.p50Ms)
        clientP95Ms = sortValue(row.client?.p95Ms)
        clientP95Text = Format.duration(row.client?.p95Ms)
        overheadMs = sortValue(row.client?.overheadMs)
        overheadText = Format.duration(row.client?.overheadMs)
        errorCount = row.errorCount
        errorCountText = Format.count(row.errorCount)
        errorPct = row.errorPct
        errorText = Format.percent(row.errorPct)
        health = row.health.rawValue
        lastSeen = row.lastSeen.timeIntervalSince1970
        lastSeenText = Format.time(row.lastSeen)
        exampleError = row.exampleError
    }
}

/// A duration as a table cell's `data-value`: the number, or empty when not measured.
private func sortValue(_ ms: Double?) -> String {
    ms.map(Format.plainNumber) ?? ""
}

/// A row of a trace table.
struct TraceRowView: Sendable {
    var traceID: String
    var href: String
    var name: String
    var service: String
    var start: Double
    var startText: String
    var durationMs: Double
    var durationText: String
    var spanCount: Int
    var errorCount: Int
    var status: String
    var failedOperation: String?
    var errorMessage: String?

    init(_ trace: TraceSummary) {
        traceID = trace.traceID
        href = "/admin/observability/traces/\(trace.traceID)"
        name = trace.rootName
        service = trace.serviceName
        start = trace.startTime.timeIntervalSince1970
        startText = Format.time(trace.startTime)
        durationMs = trace.durationMs
        durationText = Format.duration(trace.durationMs)
        spanCount = trace.spanCount
        errorCount = trace.errorCount
        status = trace.status.rawValue
        if let failed = trace.firstError {
            let operation = failed.operation.rawValue
            failedOperation = failed.target.map { "\(operation) \($0)" } ?? "\(operation) \(failed.name)"
            errorMessage = failed.message
        }
    }
}

/// The window and limit selectors of the metric pages.
func windowOptions(_ selected: MetricWindow) -> [Option] {
    let labels: [MetricWindow: String] = [
        .hour: "Last hour", .day: "Last 24 hours", .week: "Last 7 days", .month: "Last 30 days",
    ]
    return MetricWindow.allCases.map { Option(value: $0.rawValue, label: labels[$0] ?? $0.rawValue, selected: $0 == selected) }
}

func limitOptions(_ limits: [Int], selected: Int) -> [Option] {
    limits.map { Option(value: String($0), label: "Top \($0)", selected: $0 == selected) }
}

/// "Figures as of 14:03:07 UTC (2 min ago); this window is refreshed every 5 min."
func freshnessLine(_ freshness: WindowFreshness?, now: Date) -> String {
    guard let freshness, let at = freshness.lastRefreshedAt else {
        return "These figures have not been computed yet: the maintenance job refreshes them within a minute of startup."
    }
    let every = Int(freshness.refreshEverySeconds)
    let cadence = every % 3_600 == 0 ? "\(every / 3_600) h" : every % 60 == 0 ? "\(every / 60) min" : "\(every) s"
    return
        "Figures computed at \(Format.time(at)) (\(Format.age(at, now: now))); the \(freshness.window) window is refreshed every \(cadence)."
}

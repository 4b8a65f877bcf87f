import Foundation
import ObservatoryStore

/// The trace detail page (template `trace`): metadata, each service's resource
/// attributes, the timeline JSON for the Gantt chart and flame graph, and the span table
/// with every attribute and event. The table is built by `SpanTable` rather than by the
/// template: at 1,000 spans the template engine took a quarter of a second.
///
/// A very large trace is shown in bounded pieces (`TracePageLimits`): the charts draw a
/// `TraceDrawing` of it and the table one page of rows, and two notices say what was left
/// out and where to find it. Building the page is linear in the trace's spans.
struct TraceView: Sendable {
    /// A key and its value as stored (strings bare, everything else as JSON).
    struct Field: Sendable {
        var key: String
        var value: String
    }

    /// One service of the trace and the resource attributes its spans carried (one entry
    /// per distinct set, so two instances of a service with different hosts show both).
    struct ServiceResource: Sendable {
        var service: String
        var attributes: [Field]
    }

    var chrome: Chrome
    var apiURL: String
    /// The trace as OTLP/JSON, the body `POST /v1/traces` takes.
    var otlpURL: String
    var traceID: String
    var rootName: String
    var startText: String
    var endText: String
    var durationText: String
    var status: String
    var spanCount: String
    var errorCount: Int
    var hasErrors: Bool
    var services: String
    var resources: [ServiceResource]
    var timelineJSON: String
    /// What the charts leave out of a very large trace; nil when they draw every span.
    var drawingNotice: String?
    /// Which spans the table lists, when the trace needs more than one page; nil otherwise.
    var tableNotice: String?
    /// What the percentile ranks beside the durations are measured against, or why there
    /// are none.
    var rankNotice: String
    var previousPageURL: String?
    var nextPageURL: String?
    /// The span table's rows, escaped by `HTMLText`.
    var spanRowsHTML: String
    /// The rows of the MCP calls assembled from this trace, each with the spans that form
    /// it, escaped by `HTMLText`.
    var callRowsHTML: String
    var hasCalls: Bool

    init(payload: TraceDetailPayload, chrome: Chrome, query: TracePageQuery = TracePageQuery()) throws {
        let trace = payload.trace
        self.chrome = chrome
        apiURL = "/api/v1/traces/\(trace.traceID)"
        otlpURL = "/api/v1/traces/\(trace.traceID)/otlp"
        callRowsHTML = CallTable.rows(payload.calls)
        hasCalls = !payload.calls.isEmpty
        traceID = trace.traceID
        rootName = trace.spans.first?.name ?? ""
        startText = Format.time(trace.start)
        endText = Format.time(trace.end)
        durationText = Format.duration(trace.durationMs)
        status = trace.status.rawValue
        spanCount = Format.count(trace.spanCount)
        errorCount = trace.spans.filter { $0.status == .error }.count
        hasErrors = errorCount > 0
        services = trace.services.joined(separator: ", ")
        var seen = Set<String>()
        resources = []
        for span in payload.spans where seen.insert(span.serviceName + "\u{0}" + span.resourceAttributesJSON).inserted {
            resources.append(
                ServiceResource(service: span.serviceName, attributes: SpanTable.fields(span.resourceAttributesJSON)))
        }
        let drawing = TraceDrawing(trace)
        drawingNotice = Self.notice(drawing)
        rankNotice = SpanRankText.notice(trace)

        let total = trace.spans.count
        let perPage = TracePageLimits.tableRows
        let pages = max(1, (total + perPage - 1) / perPage)
        let first = min((query.page - 1) * perPage, total)
        let rows = first..<min(first + perPage, total)
        let path = "/admin/observability/traces/\(trace.traceID)"
        func pageURL(_ page: Int) -> String {
            link(path, page == 1 ? [] : [URLQueryItem(name: "page", value: String(page))]) + "#span-table"
        }
        if query.page > pages {
            tableNotice =
                "Page \(Format.count(query.page)) is past the end: this trace's \(Format.count(total)) spans fill \(Format.count(pages)) \(pages == 1 ? "page" : "pages") of \(Format.count(perPage))."
            previousPageURL = pageURL(pages)
        } else if pages > 1 {
            tableNotice =
                "Showing spans \(Format.count(rows.lowerBound + 1))–\(Format.count(rows.upperBound)) of \(Format.count(total)), in tree order (page \(Format.count(query.page)) of \(Format.count(pages)), \(Format.count(perPage)) a page)."
            previousPageURL = query.page > 1 ? pageURL(query.page - 1) : nil
            nextPageURL = query.page < pages ? pageURL(query.page + 1) : nil
        }
        // The charts' JSON and the table's rows are the large parts of the page and
        // independent of each other: built side by side (the rows in two halves, the
        // larger part), the page waits for the slowest piece rather than their sum.
        let middle = rows.lowerBound + rows.count / 2
        let pieces: [@Sendable () -> String] = [
            { trace.scriptJSON(drawing: drawing, tablePage: query.page) },
            { SpanTable.rows(timeline: trace, stored: payload.spans, rows: rows.lowerBound..<middle, calls: payload.calls) },
            { SpanTable.rows(timeline: trace, stored: payload.spans, rows: middle..<rows.upperBound, calls: payload.calls) },
        ]
        let parts = ParallelWork.all(pieces)
        timelineJSON = parts[0]
        spanRowsHTML = parts[1] + parts[2]
    }

    /// What `drawing` left out, in words; nil when it draws everything.
    static func notice(_ drawing: TraceDrawing) -> String? {
        guard !drawing.isComplete else { return nil }
        var text =
            "This trace has \(Format.count(drawing.totalSpans)) spans; the timeline and the flame graph draw \(Format.count(drawing.spans.count)) of them."
        if drawing.groups.contains(where: { $0.reason == .siblings }) {
            text +=
                " Of a span's children (and of the roots), the first \(Format.count(TracePageLimits.siblingsDrawn)) are drawn and the rest summarized in one row."
        }
        if let limit = drawing.groups.first(where: { $0.reason == .limit }) {
            text +=
                " Drawing stops at \(Format.count(TracePageLimits.drawnRows)) rows; the last row counts the \(Format.count(limit.spans)) spans after that."
        }
        return text + " The span table lists every span."
    }
}

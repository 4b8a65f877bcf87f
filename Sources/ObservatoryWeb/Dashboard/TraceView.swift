import Foundation
import ObservatoryStore

/// The trace detail page (template `trace`): metadata, each service's resource
/// attributes, the timeline JSON for the Gantt chart and flame graph, and the span table
/// with every attribute and event. The table is built by `SpanTable` rather than by the
/// template: at 1,000 spans the template engine took a quarter of a second.
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
    /// The span table's rows, escaped by `HTMLText`.
    var spanRowsHTML: String

    init(payload: TraceDetailPayload, chrome: Chrome) throws {
        let trace = payload.trace
        self.chrome = chrome
        apiURL = "/api/v1/traces/\(trace.traceID)"
        traceID = trace.traceID
        rootName = trace.spans.first?.name ?? ""
        startText = Format.time(trace.start)
        endText = Format.time(trace.end)
        durationText = Format.duration(trace.durationMs)
        status = trace.status
        spanCount = Format.count(trace.spanCount)
        errorCount = trace.spans.filter { $0.status == "error" }.count
        hasErrors = errorCount > 0
        services = trace.services.joined(separator: ", ")
        var seen = Set<String>()
        resources = []
        for span in payload.spans where seen.insert(span.serviceName + "\u{0}" + span.resourceAttributesJSON).inserted {
            resources.append(ServiceResource(service: span.serviceName, attributes: SpanTable.fields(span.resourceAttributesJSON)))
        }
        timelineJSON = trace.scriptJSON
        spanRowsHTML = SpanTable.rows(timeline: trace, stored: payload.spans)
    }
}

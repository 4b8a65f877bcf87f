import Foundation
import ObservatoryStore

/// The trace list (template `traces`).
struct TraceListView: Sendable {
    var chrome: Chrome
    var apiURL: String
    /// Every trace these filters match, as NDJSON and as CSV (not only this page).
    var ndjsonURL: String
    var csvURL: String
    var windows: [Option]
    var statuses: [Option]
    var operations: [Option]
    var limits: [Option]
    var target: String
    var minMs: String
    var search: String
    /// The root service filter; empty lists every service but the service's own.
    var service: String
    /// The MCP server filter; empty for any.
    var server: String
    var maxMs: String
    /// The MCP session filter; empty for any.
    var session: String
    /// One text field per `attr` condition, and one empty for another (`value` the
    /// condition's text, `label` the field's placeholder).
    var attributeFields: [Option]
    /// Set when the attribute search stopped at its bound: says so, and how to see more.
    var boundedNotice: String?
    var hasRows: Bool
    var rows: [TraceRowView]
    var page: Int
    var previousURL: String?
    var nextURL: String?
    var filterSummary: String

    init(query: TraceListQuery, payload: TraceListPayload, chrome: Chrome) {
        self.chrome = chrome
        apiURL = link("/api/v1/traces", query.queryItems(page: query.page))
        ndjsonURL = link("/api/v1/traces.\(TraceListExport.ndjson.rawValue)", query.filterItems)
        csvURL = link("/api/v1/traces.\(TraceListExport.csv.rawValue)", query.filterItems)
        windows = windowOptions(query.window)
        statuses =
            [Option(value: "", label: "Any status", selected: query.status == nil)]
            + [SpanStatus.error, .ok].map { Option(value: $0.rawValue, label: Self.label($0), selected: $0 == query.status) }
        operations =
            [Option(value: "", label: "Any operation", selected: query.operation == nil)]
            + SpanOperation.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == query.operation) }
        limits = TraceListQuery.limits.map { Option(value: String($0), label: "\($0) per page", selected: $0 == query.limit) }
        target = query.target ?? ""
        minMs = query.minDurationMs.map(Format.plainNumber) ?? ""
        search = query.search ?? ""
        service = query.service ?? ""
        server = query.server ?? ""
        maxMs = query.maxDurationMs.map(Format.plainNumber) ?? ""
        session = query.session ?? ""
        attributeFields = query.attributes.map { Option(value: $0.text, label: "", selected: true) }
        if attributeFields.count < AttributeCondition.maxCount {
            attributeFields.append(Option(value: "", label: "http.route=/mcp, key exists, key>5", selected: false))
        }
        if payload.bounded {
            boundedNotice =
                "Searched the newest \(Format.count(TraceStore.attributeScanLimit)) traces of the window that pass the "
                + "other filters; older traces may match as well. Narrow the window (or add filters) for a complete answer."
        }
        hasRows = !payload.traces.isEmpty
        rows = payload.traces.map(TraceRowView.init)
        page = query.page
        let path = "/admin/observability/traces"
        previousURL = query.page > 1 ? link(path, query.queryItems(page: query.page - 1)) : nil
        nextURL = payload.hasNext ? link(path, query.queryItems(page: query.page + 1)) : nil
        var parts = ["last \(query.window.rawValue)"]
        if let status = query.status { parts.append(Self.label(status).lowercased()) }
        if let operation = query.operation?.rawValue { parts.append(query.target.map { "\(operation) \($0)" } ?? operation) }
        if let ms = query.minDurationMs { parts.append("≥ \(Format.duration(ms))") }
        if let ms = query.maxDurationMs { parts.append("≤ \(Format.duration(ms))") }
        if let search = query.search { parts.append("name contains “\(search)”") }
        if let service = query.service { parts.append("service \(service)") }
        if let server = query.server { parts.append("server \(server)") }
        if let session = query.session { parts.append("session \(session)") }
        if !query.attributes.isEmpty {
            parts.append("a span with " + query.attributes.map(\.text).joined(separator: " and "))
        }
        filterSummary = parts.joined(separator: ", ")
        if query.target != nil {
            filterSummary += " (among the newest \(Format.count(TraceStore.targetScanLimit)) spans of this target)"
        }
    }

    /// What a trace of `status` is called in the filter.
    static func label(_ status: SpanStatus) -> String {
        status == .error ? "Failed" : "Succeeded"
    }
}

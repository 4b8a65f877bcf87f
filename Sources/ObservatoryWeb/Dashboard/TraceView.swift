import Foundation
import ObservatoryStore

/// The trace detail page (template `trace`): metadata, the timeline JSON for the Gantt
/// chart and flame graph, and the span table with every attribute and event.
struct TraceView: Sendable {
    /// A key and its value as stored (strings bare, everything else as JSON).
    struct Field: Sendable {
        var key: String
        var value: String
    }

    struct EventView: Sendable {
        var name: String
        var offsetText: String
        var attributes: [Field]
        var stacktrace: String?
    }

    struct SpanRow: Sendable {
        var spanID: String
        var parentSpanID: String?
        var name: String
        var indent: Int
        var operation: String
        var target: String
        var service: String
        var kind: String
        var scope: String?
        var offsetText: String
        var durationText: String
        var status: String
        var statusMessage: String?
        var critical: Bool
        var slow: Bool
        var attributes: [Field]
        var resourceAttributes: [Field]
        var events: [EventView]
        var hasAttributes: Bool
        var hasResource: Bool
        var hasEvents: Bool
        var hasDetails: Bool
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
    var timelineJSON: String
    var spans: [SpanRow]

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
        timelineJSON = try ScriptJSON.encode(trace)
        let stored = Dictionary(payload.spans.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
        spans = trace.spans.map { span in
            let row = stored[span.spanID]
            let attributes = Self.fields(row?.attributesJSON)
            let resource = Self.fields(row?.resourceAttributesJSON)
            let events = Self.events(row?.eventsJSON, spanStart: row?.startTime)
            return SpanRow(
                spanID: span.spanID, parentSpanID: span.parentSpanID, name: span.name, indent: span.depth * 14,
                operation: span.operation, target: span.target ?? "", service: span.service, kind: span.kind,
                scope: row?.scopeName, offsetText: Format.duration(span.startOffsetMs),
                durationText: Format.duration(span.durationMs), status: span.status, statusMessage: span.statusMessage,
                critical: span.critical, slow: span.slow, attributes: attributes, resourceAttributes: resource,
                events: events, hasAttributes: !attributes.isEmpty, hasResource: !resource.isEmpty,
                hasEvents: !events.isEmpty, hasDetails: !attributes.isEmpty || !resource.isEmpty || !events.isEmpty)
        }
    }

    /// The members of a stored JSON object, sorted by key.
    static func fields(_ json: String?) -> [Field] {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return []
        }
        return object.keys.sorted().map { Field(key: $0, value: display(object[$0] as Any)) }
    }

    /// The stored events; an `exception.stacktrace` attribute is shown apart, as a block.
    static func events(_ json: String?, spanStart: Date?) -> [EventView] {
        guard let json, let array = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            return []
        }
        return array.map { event in
            var attributes = (event["attributes"] as? [String: Any]) ?? [:]
            let stacktrace = attributes.removeValue(forKey: "exception.stacktrace").map(display)
            var offset = ""
            if let time = event["time"] as? String, let start = spanStart, let date = Self.parseTime(time) {
                offset = "+" + Format.duration(date.timeIntervalSince(start) * 1000)
            }
            return EventView(
                name: (event["name"] as? String) ?? "",
                offsetText: offset,
                attributes: attributes.keys.sorted().map { Field(key: $0, value: display(attributes[$0] as Any)) },
                stacktrace: stacktrace)
        }
    }

    private static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    private static func display(_ value: Any) -> String {
        if let string = value as? String { return string }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}

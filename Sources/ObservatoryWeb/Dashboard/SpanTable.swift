import Foundation
import ObservatoryStore

/// The rows of the trace page's span table, in tree order: one row per span (name
/// indented by depth, badges for the critical path and slow queries, operation and
/// target, service, offset, duration, status and message) and, when the span has any,
/// a row with its attributes and events, an exception's stack trace as a block.
/// One page of rows at a time (`TracePageLimits.tableRows`): only those spans' attributes
/// and events are parsed, whatever the size of the trace. A span that forms part of an
/// MCP call carries a badge naming the call and its side, linked to the call's row.
enum SpanTable {
    /// The call a span belongs to: its number in the calls table and its side.
    struct CallMark {
        var number: Int
        var side: CallSide
    }

    /// The table rows of the timeline's spans at `rows` (positions in tree order), with
    /// the marks of the spans that form `calls` (numbered as `CallTable` numbers them).
    static func rows(timeline: TraceTimeline, stored: [StoredSpan], rows: Range<Int>, calls: [StoredCall] = [])
        -> String
    {
        var marks: [String: CallMark] = [:]
        for (index, call) in calls.enumerated() {
            for spanID in call.spanIDs where marks[spanID] == nil {
                marks[spanID] = CallMark(number: index + 1, side: call.side)
            }
        }
        let shown = timeline.spans[rows.clamped(to: timeline.spans.indices)]
        let wanted = Set(shown.map(\.spanID))
        var byID: [String: StoredSpan] = [:]
        byID.reserveCapacity(wanted.count)
        for span in stored where wanted.contains(span.spanID) && byID[span.spanID] == nil { byID[span.spanID] = span }
        var html = HTMLText(capacity: shown.count * 900)
        for span in shown {
            row(span, stored: byID[span.spanID], call: marks[span.spanID], into: &html)
        }
        return html.string
    }

    /// The slow-query threshold as the badge's title names it: `1,000`.
    static let slowThresholdText = Format.count(Int(SlowQuery.thresholdMs))

    static func row(_ span: TraceTimeline.Span, stored: StoredSpan?, call: CallMark? = nil, into html: inout HTMLText) {
        html.markup("<tr id=\"span-")
        html.text(span.spanID)
        html.markup(span.critical ? "\" class=\"span-row critical\" data-span-id=\"" : "\" class=\"span-row\" data-span-id=\"")
        html.text(span.spanID)
        html.markup("\">\n<td class=\"name\"><span class=\"indent\" style=\"padding-left: ")
        html.number(min(span.depth, TracePageLimits.indentLevels) * 14)
        html.markup("px\">")
        html.text(span.name)
        html.markup("</span>")
        if span.slow {
            html.markup(" <span class=\"badge slow\" title=\"database span over ")
            html.text(slowThresholdText)
            html.markup(" ms\">slow query</span>")
        }
        if span.critical {
            html.markup(" <span class=\"badge critical\" title=\"on the critical path\">critical path</span>")
        }
        if let call {
            html.markup(" <a class=\"badge call\" href=\"#call-")
            html.number(call.number)
            html.markup("\" title=\"part of MCP call ")
            html.number(call.number)
            html.markup(", ")
            html.text(call.side.rawValue)
            html.markup(" side\">call ")
            html.number(call.number)
            html.markup(" · ")
            html.text(call.side.rawValue)
            html.markup("</a>")
        }
        html.markup("<div class=\"sub\">span ")
        html.text(span.spanID)
        if let parent = span.parentSpanID {
            html.markup(" · parent ")
            html.text(parent)
        }
        html.markup(" · ")
        html.text(span.kind.rawValue)
        if span.depth > TracePageLimits.indentLevels {
            html.markup(" · depth ")
            html.number(span.depth)
        }
        if let scope = stored?.scopeName {
            html.markup(" · ")
            html.text(scope)
        }
        html.markup("</div></td>\n<td>")
        html.text(span.operation.rawValue)
        html.markup("<div class=\"sub\">")
        html.text(span.target ?? "")
        html.markup("</div></td>\n<td>")
        html.text(span.service)
        html.markup("</td>\n<td class=\"num\">+")
        html.text(Format.duration(span.startOffsetMs))
        html.markup("</td>\n<td class=\"num\">")
        html.text(Format.duration(span.durationMs))
        if let rank = span.rank {
            html.markup(" <span class=\"rank rank-")
            html.text(rank.band.rawValue)
            html.markup("\" data-percentile=\"")
            html.text(Format.decimals(rank.percentile, 2))
            html.markup("\" title=\"")
            html.text(SpanRankText.title(rank))
            html.markup("\">")
            html.text(rank.label)
            html.markup("</span>")
        }
        html.markup("</td>\n<td><span class=\"badge status-")
        html.text(span.status.rawValue)
        html.markup("\">")
        html.text(span.status.rawValue)
        html.markup("</span>")
        if let message = span.statusMessage {
            html.markup("<div class=\"message\">")
            html.text(message)
            html.markup("</div>")
        }
        html.markup("</td>\n</tr>\n")

        guard let stored else { return }
        let attributes = fields(stored.attributesJSON)
        let events = stored.eventsJSON == "[]" ? [] : parseEvents(stored.eventsJSON)
        guard !attributes.isEmpty || !events.isEmpty else { return }
        html.markup("<tr class=\"span-details\" data-span-id=\"")
        html.text(span.spanID)
        html.markup("\"><td colspan=\"6\"><details><summary>")
        html.markup(events.isEmpty ? "Attributes" : "Attributes and events")
        html.markup("</summary>")
        if !attributes.isEmpty {
            html.markup("<h4>Attributes</h4>")
            list(attributes, into: &html)
        }
        for event in events {
            html.markup("<div class=\"event\"><h4>Event: ")
            html.text(event.name)
            if let time = event.time {
                html.markup(" <span class=\"sub\">+")
                html.text(Format.duration(time.timeIntervalSince(stored.startTime) * 1000))
                html.markup("</span>")
            }
            html.markup("</h4>")
            list(event.attributes, into: &html)
            if let stacktrace = event.stacktrace {
                html.markup("<pre class=\"stacktrace\">")
                html.text(stacktrace)
                html.markup("</pre>")
            }
            html.markup("</div>")
        }
        html.markup("</details></td></tr>\n")
    }

    static func list(_ fields: [TraceView.Field], into html: inout HTMLText) {
        html.markup("<dl class=\"attributes\">")
        for field in fields {
            html.markup("<div><dt>")
            html.text(field.key)
            html.markup("</dt><dd>")
            html.text(field.value)
            html.markup("</dd></div>")
        }
        html.markup("</dl>")
    }

    /// The members of a stored JSON object, sorted by key.
    static func fields(_ json: String) -> [TraceView.Field] {
        guard json != "{}", let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return []
        }
        return object.keys.sorted().map { TraceView.Field(key: $0, value: display(object[$0] as Any)) }
    }

    struct Event {
        var name: String
        var time: Date?
        var attributes: [TraceView.Field]
        var stacktrace: String?
    }

    /// The stored events; an `exception.stacktrace` attribute is taken apart, to be shown
    /// as a block.
    static func parseEvents(_ json: String) -> [Event] {
        guard let array = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else { return [] }
        return array.map { event in
            var attributes = (event["attributes"] as? [String: Any]) ?? [:]
            let stacktrace = attributes.removeValue(forKey: "exception.stacktrace").map(display)
            return Event(
                name: (event["name"] as? String) ?? "",
                time: (event["time"] as? String).flatMap(parseTime),
                attributes: attributes.keys.sorted().map { TraceView.Field(key: $0, value: display(attributes[$0] as Any)) },
                stacktrace: stacktrace)
        }
    }

    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let whole = Date.ISO8601FormatStyle()

    static func parseTime(_ text: String) -> Date? {
        (try? fractional.parse(text)) ?? (try? whole.parse(text))
    }

    static func display(_ value: Any) -> String {
        if let string = value as? String { return string }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}

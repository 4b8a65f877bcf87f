import Foundation
import ObservatoryStore

/// The rows of a calls table (the trace page's "MCP calls", the session page): one row per
/// side of one MCP request, with links to the spans that form it and to its session.
/// Built here rather than by the template, like `SpanTable`: the template engine's cost
/// per row put the 1,000-span trace page over its 50 ms target (docs/performance.md).
enum CallTable {
    static func rows(_ calls: [StoredCall]) -> String {
        var html = HTMLText(capacity: calls.count * 700)
        for (index, call) in calls.enumerated() {
            row(call, number: index + 1, into: &html)
        }
        return html.string
    }

    static func row(_ call: StoredCall, number: Int, into html: inout HTMLText) {
        html.markup("<tr id=\"call-")
        html.number(number)
        html.markup(call.counted ? "\" class=\"call-row counted\" data-side=\"" : "\" class=\"call-row\" data-side=\"")
        html.text(call.side.rawValue)
        html.markup("\">\n<td class=\"num\">")
        html.number(number)
        html.markup("</td><td>")
        html.text(call.side.rawValue)
        html.markup("</td><td class=\"nowrap\">")
        html.text(call.method)
        html.markup("</td><td class=\"name\">")
        html.text(call.target ?? "–")
        if let message = call.errorMessage {
            html.markup("<div class=\"example-error\" title=\"")
            html.text(message)
            html.markup("\">")
            html.text(message)
            html.markup("</div>")
        }
        html.markup("</td><td class=\"nowrap\">")
        html.text(call.server ?? "–")
        html.markup("</td><td class=\"nowrap\">")
        html.text(call.client ?? "–")
        html.markup("</td><td class=\"nowrap\">")
        html.text(Format.time(call.startTime))
        html.markup("</td><td class=\"num\">")
        html.text(Format.duration(call.clientDurationMs))
        html.markup("</td><td class=\"num\">")
        html.text(Format.duration(call.serverDurationMs))
        html.markup("</td><td><span class=\"badge status-")
        html.text(call.requestStatus.rawValue)
        html.markup("\" title=\"this side: ")
        html.text(call.status.rawValue)
        html.markup("\">")
        html.text(call.requestStatus.rawValue)
        html.markup("</span></td><td class=\"span-links\">")
        let traceHref = "/admin/observability/traces/\(call.traceID)"
        for spanID in call.spanIDs {
            html.markup("<a href=\"")
            html.text("\(traceHref)#span-\(spanID)")
            html.markup("\" class=\"span-link\">")
            html.text(String(spanID.suffix(6)))
            html.markup("</a> ")
        }
        html.markup("</td><td>")
        if let sessionID = call.sessionID {
            html.markup("<a href=\"")
            html.text(sessionPath(sessionID))
            html.markup("\" class=\"session-link\">")
            html.text(sessionID)
            html.markup("</a>")
        }
        html.markup("</td>\n</tr>\n")
    }
}

/// The page of one MCP session's requests (`/admin/observability/sessions/{id}`).
func sessionPath(_ sessionID: String) -> String {
    var components = URLComponents()
    components.path = "/admin/observability/sessions/" + sessionID
    return components.percentEncodedPath
}

/// The session page (template `session`).
struct SessionView: Sendable {
    var chrome: Chrome
    var sessionID: String
    var apiURL: String
    var hasCalls: Bool
    var countText: String
    var failedText: String
    var truncatedNotice: String?
    /// The calls table's rows, escaped by `HTMLText`.
    var callRowsHTML: String

    init(payload: SessionPayload, chrome: Chrome) {
        self.chrome = chrome
        sessionID = payload.sessionID
        var components = URLComponents()
        components.path = "/api/v1/sessions/" + payload.sessionID
        apiURL = components.percentEncodedPath
        hasCalls = !payload.calls.isEmpty
        countText = Format.count(payload.calls.count)
        failedText = Format.count(payload.calls.filter(\.requestFailed).count)
        truncatedNotice =
            payload.truncated
            ? "Only the first \(Format.count(payload.calls.count)) requests of this session are shown." : nil
        callRowsHTML = CallTable.rows(payload.calls)
    }
}

/// One MCP session's requests, in start order: the session page and its JSON twin.
struct SessionPayload: Sendable {
    /// Requests shown at most; the page says when a session has more.
    static let limit = 1_000

    var sessionID: String
    var calls: [StoredCall]
    var truncated: Bool

    /// The body of `GET /api/v1/sessions/{id}`.
    var json: [UInt8] {
        var json = JSONText(capacity: calls.count * 500 + 128)
        json.beginObject()
        json.key("calls")
        json.beginArray()
        for call in calls { call.write(into: &json) }
        json.endArray()
        json.key("session_id")
        json.string(sessionID)
        json.key("truncated")
        json.bool(truncated)
        json.endObject()
        return json.bytes
    }
}

extension StoredCall {
    /// This side's outcome as the pages and the API name it (`ok` or `error`).
    var status: SpanStatus { failed ? .error : .ok }
    /// The request's outcome, either side having failed (`ok` or `error`).
    var requestStatus: SpanStatus { requestFailed ? .error : .ok }

    /// A call in the API, with the column names of `observability.calls`; absent values
    /// are left out, as everywhere in the API.
    func write(into json: inout JSONText) {
        json.beginObject()
        if let clientDurationMs {
            json.key("client_duration_ms")
            json.number(clientDurationMs)
        }
        if let client {
            json.key("client_name")
            json.string(client)
        }
        json.key("counted")
        json.bool(counted)
        json.key("duration_ms")
        json.number(durationMs)
        if let errorMessage {
            json.key("error_message")
            json.string(errorMessage)
        }
        json.key("method")
        json.string(method)
        json.key("request_status")
        json.string(requestStatus.rawValue)
        if let serverDurationMs {
            json.key("server_duration_ms")
            json.number(serverDurationMs)
        }
        if let server {
            json.key("server_name")
            json.string(server)
        }
        json.key("service_name")
        json.string(service)
        if let sessionID {
            json.key("session_id")
            json.string(sessionID)
        }
        json.key("side")
        json.string(side.rawValue)
        json.key("span_id")
        json.string(spanID)
        json.key("span_ids")
        json.beginArray()
        for id in spanIDs { json.string(id) }
        json.endArray()
        json.key("start_time")
        json.timestamp(startTime)
        json.key("status")
        json.string(status.rawValue)
        if let target {
            json.key("target")
            json.string(target)
        }
        json.key("trace_id")
        json.string(traceID)
        json.endObject()
    }
}

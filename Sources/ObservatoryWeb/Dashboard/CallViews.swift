import Foundation
import ObservatoryStore

/// A row of a calls table (the trace page's "MCP calls", the session page): one side of
/// one MCP request, with links to the spans that form it, its trace and its session.
struct CallRowView: Sendable {
    /// A span of the call's chain: its short id and the anchor of its row on the trace page.
    struct SpanLink: Sendable {
        var label: String
        var href: String
    }

    var number: Int
    var side: String
    var method: String
    var target: String
    var server: String
    var client: String
    var startText: String
    var durationText: String
    var clientDurationText: String
    var serverDurationText: String
    var status: String
    var requestStatus: String
    var errorMessage: String?
    var counted: Bool
    var traceHref: String
    var spans: [SpanLink]
    var sessionHref: String?
    var sessionID: String?

    init(_ call: StoredCall, number: Int) {
        self.number = number
        side = call.side.rawValue
        method = call.method
        target = call.target ?? "–"
        server = call.server ?? "–"
        client = call.client ?? "–"
        startText = Format.time(call.startTime)
        durationText = Format.duration(call.durationMs)
        clientDurationText = Format.duration(call.clientDurationMs)
        serverDurationText = Format.duration(call.serverDurationMs)
        status = call.failed ? SpanStatus.error.rawValue : SpanStatus.ok.rawValue
        requestStatus = call.requestFailed ? SpanStatus.error.rawValue : SpanStatus.ok.rawValue
        errorMessage = call.errorMessage
        counted = call.counted
        let traceHref = "/admin/observability/traces/\(call.traceID)"
        self.traceHref = traceHref
        spans = call.spanIDs.map { SpanLink(label: String($0.suffix(6)), href: "\(traceHref)#span-\($0)") }
        sessionID = call.sessionID
        sessionHref = call.sessionID.map { sessionPath($0) }
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
    var calls: [CallRowView]

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
        calls = payload.calls.enumerated().map { CallRowView($1, number: $0 + 1) }
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
        json.string(requestFailed ? SpanStatus.error.rawValue : SpanStatus.ok.rawValue)
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
        json.string(APIJSON.timestamp(startTime))
        json.key("status")
        json.string(failed ? SpanStatus.error.rawValue : SpanStatus.ok.rawValue)
        if let target {
            json.key("target")
            json.string(target)
        }
        json.key("trace_id")
        json.string(traceID)
        json.endObject()
    }
}

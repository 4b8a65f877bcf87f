import Foundation
import ObservatoryStore

/// A filtered trace list written as a download: NDJSON (one JSON object a line) or CSV
/// (RFC 4180, with a header line). Both carry the same fields, named as in the JSON API.
enum TraceListExport: String, Sendable, CaseIterable {
    case ndjson
    case csv

    var contentType: String {
        switch self {
        case .ndjson: "application/x-ndjson; charset=utf-8"
        case .csv: "text/csv; charset=utf-8; header=present"
        }
    }

    /// The fields of each trace, in order: CSV's header and NDJSON's keys.
    static let fields = [
        "trace_id", "root_name", "service_name", "start_time", "end_time", "duration_ms", "span_count", "error_count",
        "status",
    ]

    /// What comes before the first trace: CSV's header line.
    var header: String {
        self == .csv ? Self.fields.joined(separator: ",") + "\r\n" : ""
    }

    /// One trace as a line of this format.
    func line(_ trace: ExportedTrace) -> [UInt8] {
        switch self {
        case .ndjson:
            var json = JSONText(capacity: 256)
            json.beginObject()
            json.key("trace_id")
            json.string(trace.traceID)
            json.key("root_name")
            json.string(trace.rootName)
            json.key("service_name")
            json.string(trace.serviceName)
            json.key("start_time")
            json.string(trace.startTime)
            json.key("end_time")
            json.string(trace.endTime)
            json.key("duration_ms")
            json.number(trace.durationMs)
            json.key("span_count")
            json.number(trace.spanCount)
            json.key("error_count")
            json.number(trace.errorCount)
            json.key("status")
            json.string(trace.status.rawValue)
            json.endObject()
            return json.bytes + [UInt8(ascii: "\n")]
        case .csv:
            let fields = [
                Self.csvField(trace.traceID), Self.csvField(trace.rootName), Self.csvField(trace.serviceName), trace.startTime,
                trace.endTime, Format.plainNumber(trace.durationMs), String(trace.spanCount), String(trace.errorCount),
                trace.status.rawValue,
            ]
            return Array((fields.joined(separator: ",") + "\r\n").utf8)
        }
    }

    /// A text field of CSV: quoted when it holds a comma, a quote or a line break (quotes
    /// doubled). A name that a spreadsheet would run as a formula (starting with `=`, `+`,
    /// `-`, `@`, a tab or a carriage return) gets a leading `'`, so opening an export of
    /// names clients chose never runs one (OWASP's advice on CSV injection).
    static func csvField(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

import Foundation
import ObservatoryStore

/// Reads the native JSON format of `POST /api/v1/spans`, for gateways without an
/// OpenTelemetry SDK: snake_case keys, hex ids, times as RFC 3339 text or integer
/// nanoseconds since the epoch, attributes as a plain JSON object. docs/ingestion.md
/// documents it with examples.
public enum NativeSpanDecoder {
    public static func decode(_ body: Data) throws(IngestError) -> DecodedExport {
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: body)
        } catch {
            throw .undecodable("the body is not a valid span batch: \(JSONDecodingProblem.describe(error))")
        }
        var resource = request.resource.map(attributes(of:)) ?? []
        if let service = request.serviceName, resource.text("service.name") == nil {
            resource.append(Attribute(key: "service.name", value: .string(service)))
        }
        var export = DecodedExport(origins: [SpanOrigin(resourceAttributes: resource, scopeName: nil)])
        var originOfService: [String: Int] = [:]
        for span in request.spans {
            var origin = 0
            if let service = span.serviceName {
                if let known = originOfService[service] {
                    origin = known
                } else {
                    var attributes = resource.filter { $0.key != "service.name" }
                    attributes.append(Attribute(key: "service.name", value: .string(service)))
                    origin = export.origins.count
                    export.origins.append(SpanOrigin(resourceAttributes: attributes, scopeName: nil))
                    originOfService[service] = origin
                }
            }
            let start = span.startTime?.unixNano ?? 0
            var end = span.endTime?.unixNano ?? 0
            if span.endTime == nil, let duration = span.durationMs, duration.isFinite, duration >= 0, start > 0 {
                // Saturating: an end past what UInt64 holds is refused by validation as
                // too far in the future, not wrapped round to an early time.
                let (sum, overflow) = start.addingReportingOverflow(UInt64(min(duration * 1_000_000, 1e18)))
                end = overflow ? .max : sum
            }
            // The native format spells a status as the stored column does; anything else is unset.
            let status: SpanInput.StatusCode =
                switch span.status.flatMap({ SpanStatus(rawValue: $0.lowercased()) }) {
                case .ok?: .ok
                case .error?: .error
                case .unset?, nil: .unset
                }
            export.spans.append(
                SpanInput(
                    traceID: HexBytes.decode(span.traceId ?? ""),
                    spanID: HexBytes.decode(span.spanId ?? ""),
                    parentSpanID: HexBytes.decode(span.parentSpanId ?? ""),
                    name: span.name ?? "",
                    kind: span.kind.map { SpanKind(rawValue: $0.lowercased()) ?? .unspecified } ?? .internal,
                    startTimeUnixNano: start,
                    endTimeUnixNano: end,
                    attributes: span.attributes.map(attributes(of:)) ?? [],
                    events: (span.events ?? []).map { event in
                        EventInput(
                            name: event.name ?? "", timeUnixNano: event.time?.unixNano ?? start,
                            attributes: event.attributes.map(attributes(of:)) ?? [])
                    },
                    statusCode: status,
                    statusMessage: span.statusMessage ?? "",
                    origin: origin))
        }
        return export
    }

    static func attributes(of object: [String: JSONValue]) -> [Attribute] {
        object.keys.sorted().map { Attribute(key: $0, value: object[$0]!.attributeValue(depth: 0)) }
    }

    struct Request: Decodable {
        var serviceName: String?
        var resource: [String: JSONValue]?
        var spans: [Span]

        enum CodingKeys: String, CodingKey {
            case serviceName = "service_name", resource, spans
        }
    }

    struct Span: Decodable {
        var traceId: String?
        var spanId: String?
        var parentSpanId: String?
        var name: String?
        var kind: String?
        var serviceName: String?
        var startTime: Timestamp?
        var endTime: Timestamp?
        var durationMs: Double?
        var status: String?
        var statusMessage: String?
        var attributes: [String: JSONValue]?
        var events: [Event]?

        enum CodingKeys: String, CodingKey {
            case traceId = "trace_id", spanId = "span_id", parentSpanId = "parent_span_id", name, kind
            case serviceName = "service_name", startTime = "start_time", endTime = "end_time"
            case durationMs = "duration_ms", status, statusMessage = "status_message", attributes, events
        }
    }

    struct Event: Decodable {
        var name: String?
        var time: Timestamp?
        var attributes: [String: JSONValue]?
    }

    /// RFC 3339 text, or nanoseconds since the epoch as a number or a string of digits.
    struct Timestamp: Decodable {
        var unixNano: UInt64

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(UInt64.self) {
                unixNano = number
                return
            }
            let text = try container.decode(String.self)
            if let number = UInt64(text) {
                unixNano = number
            } else if let parsed = RFC3339.unixNano(text) {
                unixNano = parsed
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription:
                        "expected RFC 3339 time (2026-01-31T12:00:00.123456789Z) or integer nanoseconds since the epoch, got \"\(text.prefix(64))\""
                )
            }
        }
    }
}

/// Any JSON value, for attributes given as a plain JSON object.
indirect enum JSONValue: Decodable, Sendable {
    case string(String), int(Int64), double(Double), bool(Bool), null
    case array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .int(number)
        } else if let number = try? container.decode(Double.self) {
            self = .double(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func attributeValue(depth: Int) -> AttributeValue {
        switch self {
        case .string(let text): return .string(text)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .bool(let flag): return .bool(flag)
        case .null: return .string("")
        case .array(let values):
            guard depth < OTLPProtobufDecoder.maxValueDepth else { return .string("[nested too deep]") }
            return .array(values.map { $0.attributeValue(depth: depth + 1) })
        case .object(let object):
            guard depth < OTLPProtobufDecoder.maxValueDepth else { return .string("[nested too deep]") }
            return .map(object.keys.sorted().map { Attribute(key: $0, value: object[$0]!.attributeValue(depth: depth + 1)) })
        }
    }
}

/// Parses RFC 3339 timestamps with up to nanosecond fractions and any UTC offset.
enum RFC3339 {
    /// Nanoseconds since the epoch, or nil when `text` is not an RFC 3339 time of years
    /// 1970–9999 (a day the month does not have, an offset beyond ±23:59, a time before the
    /// epoch). Times past 2554-07-21, which nanoseconds in a `UInt64` cannot hold, give
    /// `UInt64.max`: validation then refuses the span as too far in the future, with a
    /// message, instead of failing the whole request.
    static func unixNano(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for index in range {
                guard b[index] >= 0x30, b[index] <= 0x39 else { return nil }
                value = value * 10 + Int(b[index] - 0x30)
            }
            return value
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1970...9999).contains(year), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var nanos = 0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
                if digits < 9 { nanos = nanos * 10 + Int(b[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }
        guard index < b.count else { return nil }
        var offsetSeconds = 0
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            index += 1
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
            guard index + 6 == b.count, b[index + 3] == UInt8(ascii: ":"),
                let hours = number((index + 1)..<(index + 3)), let minutes = number((index + 4)..<(index + 6)),
                hours < 24, minutes < 60
            else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (b[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        // Days from civil (H. Hinnant), the inverse of UnixTime's formatting.
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        guard seconds >= 0 else { return nil }
        // Year 9999 is about 2.5e11 seconds, so `seconds` is far from overflowing Int.
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (total, carry) = whole.addingReportingOverflow(UInt64(nanos))
        return carry ? .max : total
    }

    /// 28 to 31 by the Gregorian calendar.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

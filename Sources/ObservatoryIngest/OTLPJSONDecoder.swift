import Foundation
import ObservatoryStore

/// Reads an OTLP/HTTP JSON body into ``DecodedExport``, following the OTLP JSON mapping:
/// lowerCamelCase keys, trace and span ids as hex (not base64), enums as numbers or names,
/// 64-bit integers as strings or numbers, unknown fields ignored.
public enum OTLPJSONDecoder {
    public static func decode(_ body: Data) throws(IngestError) -> DecodedExport {
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: body)
        } catch {
            throw .undecodable("the body is not valid OTLP JSON: \(JSONDecodingProblem.describe(error))")
        }
        var export = DecodedExport()
        for resourceSpans in request.resourceSpans ?? [] {
            let resourceAttributes = attributes(resourceSpans.resource?.attributes)
            for scopeSpans in resourceSpans.scopeSpans ?? [] {
                let origin = export.origins.count
                let scopeName = scopeSpans.scope?.name ?? ""
                export.origins.append(
                    SpanOrigin(resourceAttributes: resourceAttributes, scopeName: scopeName.isEmpty ? nil : scopeName))
                for span in scopeSpans.spans ?? [] {
                    export.spans.append(convert(span, origin: origin))
                }
            }
        }
        return export
    }

    static func convert(_ span: Span, origin: Int) -> SpanInput {
        let status: SpanInput.StatusCode
        switch span.status?.code?.value {
        case 1: status = .ok
        case 2: status = .error
        default: status = .unset
        }
        return SpanInput(
            traceID: HexBytes.decode(span.traceId ?? ""),
            spanID: HexBytes.decode(span.spanId ?? ""),
            parentSpanID: HexBytes.decode(span.parentSpanId ?? ""),
            name: span.name ?? "",
            kind: SpanKind(otlpValue: span.kind?.value ?? 0),
            startTimeUnixNano: span.startTimeUnixNano?.value ?? 0,
            endTimeUnixNano: span.endTimeUnixNano?.value ?? 0,
            attributes: attributes(span.attributes),
            events: (span.events ?? []).map { event in
                EventInput(
                    name: event.name ?? "", timeUnixNano: event.timeUnixNano?.value ?? 0,
                    attributes: attributes(event.attributes))
            },
            statusCode: status,
            statusMessage: span.status?.message ?? "",
            origin: origin)
    }

    static func attributes(_ keyValues: [KeyValue]?, depth: Int = 0) -> [Attribute] {
        (keyValues ?? []).map { Attribute(key: $0.key ?? "", value: value($0.value, depth: depth)) }
    }

    static func value(_ any: AnyValue?, depth: Int) -> AttributeValue {
        guard let any else { return .string("") }
        if let text = any.stringValue { return .string(text) }
        if let flag = any.boolValue { return .bool(flag) }
        if let number = any.intValue { return .int(number.value) }
        if let number = any.doubleValue { return .double(number.value) }
        if let base64 = any.bytesValue { return .bytes(Array(Data(base64Encoded: base64) ?? Data())) }
        guard depth < OTLPProtobufDecoder.maxValueDepth else { return .string("[nested too deep]") }
        if let array = any.arrayValue { return .array((array.values ?? []).map { value($0, depth: depth + 1) }) }
        if let list = any.kvlistValue { return .map(attributes(list.values, depth: depth + 1)) }
        return .string("")
    }

    // MARK: The JSON shapes (only the fields we read; Codable ignores the rest)

    struct Request: Decodable { var resourceSpans: [ResourceSpans]? }
    struct ResourceSpans: Decodable {
        var resource: Resource?
        var scopeSpans: [ScopeSpans]?
    }
    struct Resource: Decodable { var attributes: [KeyValue]? }
    struct ScopeSpans: Decodable {
        var scope: Scope?
        var spans: [Span]?
    }
    struct Scope: Decodable { var name: String? }
    struct Span: Decodable {
        var traceId: String?
        var spanId: String?
        var parentSpanId: String?
        var name: String?
        var kind: FlexibleEnum?
        var startTimeUnixNano: FlexibleUInt64?
        var endTimeUnixNano: FlexibleUInt64?
        var attributes: [KeyValue]?
        var events: [Event]?
        var status: Status?
    }
    struct Event: Decodable {
        var timeUnixNano: FlexibleUInt64?
        var name: String?
        var attributes: [KeyValue]?
    }
    struct Status: Decodable {
        var message: String?
        var code: FlexibleEnum?
    }
    struct KeyValue: Decodable {
        var key: String?
        var value: AnyValue?
    }
    final class AnyValue: Decodable, Sendable {
        let stringValue: String?
        let boolValue: Bool?
        let intValue: FlexibleInt64?
        let doubleValue: FlexibleDouble?
        let bytesValue: String?
        let arrayValue: ArrayValue?
        let kvlistValue: KeyValueList?
    }
    struct ArrayValue: Decodable { var values: [AnyValue]? }
    struct KeyValueList: Decodable { var values: [KeyValue]? }
}

/// A proto3 JSON enum: its number, or its name (`"SPAN_KIND_SERVER"`, `"STATUS_CODE_ERROR"`).
struct FlexibleEnum: Decodable {
    var value: Int

    static let names: [String: Int] = [
        "SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
        "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5,
        "STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2,
    ]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            value = number
        } else {
            let name = try container.decode(String.self)
            guard let number = Self.names[name] else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown enum value \"\(name)\"")
            }
            value = number
        }
    }
}

/// A proto3 JSON fixed64/uint64: a number or a decimal string.
struct FlexibleUInt64: Decodable {
    var value: UInt64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            value = number
        } else if let text = try? container.decode(String.self), let number = UInt64(text) {
            value = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an unsigned 64-bit integer")
        }
    }
}

/// A proto3 JSON int64: a number or a decimal string.
struct FlexibleInt64: Decodable {
    var value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            value = number
        } else if let text = try? container.decode(String.self), let number = Int64(text) {
            value = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a 64-bit integer")
        }
    }
}

/// A proto3 JSON double: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
struct FlexibleDouble: Decodable {
    var value: Double

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
        } else {
            switch try container.decode(String.self) {
            case "NaN": value = .nan
            case "Infinity": value = .infinity
            case "-Infinity": value = -.infinity
            case let text:
                guard let number = Double(text) else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number")
                }
                value = number
            }
        }
    }
}

/// Hex ids of the OTLP JSON mapping.
enum HexBytes {
    /// The bytes of an even-length hex string; empty for an empty string, nil when not hex.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let pair = UInt64(hexDigits: utf8[index..<(index + 2)]) else { return nil }
            bytes.append(UInt8(pair))
            index += 2
        }
        return bytes
    }
}

/// A short, useful account of why JSON did not decode, for the 400 answer.
enum JSONDecodingProblem {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "malformed JSON" }
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the top level" : String(text.drop { $0 == "." })
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "malformed JSON" }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        @unknown default:
            return "malformed JSON"
        }
    }
}

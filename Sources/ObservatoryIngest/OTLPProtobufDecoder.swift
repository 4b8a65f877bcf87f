import Foundation
import ObservatoryStore

/// Reads an OTLP/HTTP protobuf body (`ExportTraceServiceRequest`) straight into
/// ``DecodedExport``.
///
/// Hand-written against the wire format instead of going through the generated
/// SwiftProtobuf messages: decoding into those and converting them afterwards took a
/// third of the service's CPU per span (a heap object per span, two copies of every
/// attribute). It reads only the fields listed in proto/ and skips everything else, as
/// any protobuf reader skips unknown fields. The tests compare it with SwiftProtobuf on
/// generated traffic and on thousands of mutated payloads.
public enum OTLPProtobufDecoder {
    /// Nesting limit for attribute values: a hostile payload of arrays in arrays must not
    /// exhaust the stack.
    static let maxValueDepth = 16

    public static func decode(_ body: Data) throws(IngestError) -> DecodedExport {
        do {
            return try body.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> DecodedExport in
                var reader = WireReader(bytes: raw)
                var export = DecodedExport()
                while let (field, wireType) = try reader.nextField() {
                    if field == 1, wireType == .lengthDelimited {
                        var resourceSpans = try reader.nested()
                        try readResourceSpans(&resourceSpans, into: &export)
                    } else {
                        try reader.skip(wireType)
                    }
                }
                return export
            }
        } catch let error as WireError {
            throw .undecodable(
                "the body is not a valid OTLP ExportTraceServiceRequest protobuf (\(error.reason) at byte \(error.offset))")
        } catch {
            throw .undecodable("the body is not a valid OTLP ExportTraceServiceRequest protobuf")
        }
    }

    /// `ResourceSpans`: the resource (1) and its scope groups (2). The resource may come
    /// after the scopes on the wire, so the scopes are read once it is known.
    private static func readResourceSpans(_ reader: inout WireReader, into export: inout DecodedExport) throws {
        var resource: [Attribute] = []
        var scopes: [WireReader] = []
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, .lengthDelimited):
                var resourceReader = try reader.nested()
                resource = []
                while let (inner, innerType) = try resourceReader.nextField() {
                    if inner == 1, innerType == .lengthDelimited {
                        var keyValue = try resourceReader.nested()
                        resource.append(try readKeyValue(&keyValue, depth: 0))
                    } else {
                        try resourceReader.skip(innerType)
                    }
                }
            case (2, .lengthDelimited):
                scopes.append(try reader.nested())
            default:
                try reader.skip(wireType)
            }
        }
        for var scope in scopes {
            try readScopeSpans(&scope, resource: resource, into: &export)
        }
    }

    /// `ScopeSpans`: the instrumentation scope (1) and its spans (2).
    private static func readScopeSpans(_ reader: inout WireReader, resource: [Attribute], into export: inout DecodedExport) throws
    {
        var scopeName: String?
        var spans: [WireReader] = []
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, .lengthDelimited):
                var scope = try reader.nested()
                while let (inner, innerType) = try scope.nextField() {
                    if inner == 1, innerType == .lengthDelimited {
                        let name = try scope.string()
                        scopeName = name.isEmpty ? nil : name
                    } else {
                        try scope.skip(innerType)
                    }
                }
            case (2, .lengthDelimited):
                spans.append(try reader.nested())
            default:
                try reader.skip(wireType)
            }
        }
        let origin = export.origins.count
        export.origins.append(SpanOrigin(resourceAttributes: resource, scopeName: scopeName))
        export.spans.reserveCapacity(export.spans.count + spans.count)
        for var span in spans {
            export.spans.append(try readSpan(&span, origin: origin))
        }
    }

    private static func readSpan(_ reader: inout WireReader, origin: Int) throws -> SpanInput {
        var span = SpanInput(
            traceID: [], spanID: [], parentSpanID: [], name: "", kind: .unspecified, startTimeUnixNano: 0,
            endTimeUnixNano: 0, attributes: [], events: [], statusCode: .unset, statusMessage: "", origin: origin)
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, .lengthDelimited): span.traceID = try reader.byteArray()
            case (2, .lengthDelimited): span.spanID = try reader.byteArray()
            case (4, .lengthDelimited): span.parentSpanID = try reader.byteArray()
            case (5, .lengthDelimited): span.name = try reader.string()
            case (6, .varint): span.kind = SpanKind(otlpValue: Int(truncatingIfNeeded: try reader.varint()))
            case (7, .fixed64): span.startTimeUnixNano = try reader.fixed64()
            case (8, .fixed64): span.endTimeUnixNano = try reader.fixed64()
            case (9, .lengthDelimited):
                var keyValue = try reader.nested()
                span.attributes.append(try readKeyValue(&keyValue, depth: 0))
            case (11, .lengthDelimited):
                var event = try reader.nested()
                span.events.append(try readEvent(&event))
            case (15, .lengthDelimited):
                var status = try reader.nested()
                while let (inner, innerType) = try status.nextField() {
                    switch (inner, innerType) {
                    case (2, .lengthDelimited): span.statusMessage = try status.string()
                    case (3, .varint):
                        switch try status.varint() {
                        case 1: span.statusCode = .ok
                        case 2: span.statusCode = .error
                        default: span.statusCode = .unset
                        }
                    default: try status.skip(innerType)
                    }
                }
            case (1, _), (2, _), (4, _), (5, _), (6, _), (7, _), (8, _), (9, _), (11, _), (15, _):
                throw reader.error("field \(field) of Span has the wrong wire type")
            default:
                try reader.skip(wireType)
            }
        }
        return span
    }

    private static func readEvent(_ reader: inout WireReader) throws -> EventInput {
        var event = EventInput(name: "", timeUnixNano: 0, attributes: [])
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, .fixed64): event.timeUnixNano = try reader.fixed64()
            case (2, .lengthDelimited): event.name = try reader.string()
            case (3, .lengthDelimited):
                var keyValue = try reader.nested()
                event.attributes.append(try readKeyValue(&keyValue, depth: 0))
            default: try reader.skip(wireType)
            }
        }
        return event
    }

    private static func readKeyValue(_ reader: inout WireReader, depth: Int) throws -> Attribute {
        var key = ""
        var value = AttributeValue.string("")
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, .lengthDelimited): key = try reader.string()
            case (2, .lengthDelimited):
                var any = try reader.nested()
                value = try readAnyValue(&any, depth: depth)
            default: try reader.skip(wireType)
            }
        }
        return Attribute(key: key, value: value)
    }

    private static func readAnyValue(_ reader: inout WireReader, depth: Int) throws -> AttributeValue {
        var value = AttributeValue.string("")
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, .lengthDelimited): value = .string(try reader.string())
            case (2, .varint): value = .bool(try reader.varint() != 0)
            case (3, .varint): value = .int(Int64(bitPattern: try reader.varint()))
            case (4, .fixed64): value = .double(Double(bitPattern: try reader.fixed64()))
            case (7, .lengthDelimited): value = .bytes(try reader.byteArray())
            case (5, .lengthDelimited), (6, .lengthDelimited):
                var list = try reader.nested()
                guard depth < maxValueDepth else {
                    value = .string("[nested too deep]")
                    continue
                }
                var elements: [AttributeValue] = []
                var entries: [Attribute] = []
                while let (inner, innerType) = try list.nextField() {
                    if inner == 1, innerType == .lengthDelimited {
                        var element = try list.nested()
                        if field == 5 {
                            elements.append(try readAnyValue(&element, depth: depth + 1))
                        } else {
                            entries.append(try readKeyValue(&element, depth: depth + 1))
                        }
                    } else {
                        try list.skip(innerType)
                    }
                }
                value = field == 5 ? .array(elements) : .map(entries)
            default: try reader.skip(wireType)
            }
        }
        return value
    }
}

/// A cursor over protobuf wire-format bytes. It only lives inside `Data.withUnsafeBytes`.
struct WireReader {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
    }

    private init(bytes: UnsafeRawBufferPointer, position: Int, end: Int) {
        self.bytes = bytes
        self.position = position
        self.end = end
    }

    func error(_ reason: String) -> WireError {
        WireError(reason: reason, offset: position)
    }

    /// The next field's number and wire type, or nil at the end of this message.
    mutating func nextField() throws -> (Int, WireType)? {
        guard position < end else { return nil }
        let key = try varint()
        guard let wireType = WireType(rawValue: key & 7), key >> 3 > 0, key >> 3 <= 536_870_911 else {
            throw error("invalid field key \(key)")
        }
        guard wireType != .startGroup, wireType != .endGroup else { throw error("groups are not supported") }
        return (Int(key >> 3), wireType)
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw error("truncated varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw error("varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func fixed64() throws -> UInt64 {
        guard end - position >= 8 else { throw error("truncated fixed64") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += 8
        return value
    }

    /// The bounds of a length-delimited field's payload, advancing past it.
    private mutating func lengthDelimited() throws -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw error("length \(length) runs past the end") }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// A reader over an embedded message.
    mutating func nested() throws -> WireReader {
        let range = try lengthDelimited()
        return WireReader(bytes: bytes, position: range.lowerBound, end: range.upperBound)
    }

    mutating func byteArray() throws -> [UInt8] {
        Array(bytes[try lengthDelimited()])
    }

    /// A proto3 string, which must be valid UTF-8.
    mutating func string() throws -> String {
        let range = try lengthDelimited()
        guard let text = String(validating: bytes[range], as: UTF8.self) else { throw error("a string is not valid UTF-8") }
        return text
    }

    mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64:
            guard end - position >= 8 else { throw error("truncated fixed64") }
            position += 8
        case .fixed32:
            guard end - position >= 4 else { throw error("truncated fixed32") }
            position += 4
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw error("groups are not supported")
        }
    }
}

struct WireError: Error {
    var reason: String
    var offset: Int
}

/// Why a request could not be ingested at all; each case maps to one HTTP status.
public enum IngestError: Error, Equatable, CustomStringConvertible {
    /// 400: the body does not decode.
    case undecodable(String)
    /// 413: the body is larger than the limit (after decompression).
    case tooLarge(limit: Int)
    /// 415: a content type or encoding we do not read.
    case unsupportedMediaType(String)

    public var description: String {
        switch self {
        case .undecodable(let reason): reason
        case .tooLarge(let limit): "the request body exceeds the limit of \(limit) bytes (measured after decompression)"
        case .unsupportedMediaType(let reason): reason
        }
    }
}

import ObservatoryStore

/// An attribute value as OpenTelemetry defines it: a primitive, an array or a map. Not
/// `indirect`: arrays already hold the nested values, and a box per value would cost an
/// allocation and a reference count on every copy of every attribute.
public enum AttributeValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([AttributeValue])
    case map([Attribute])

    /// The value as text when it is a scalar, for classification rules.
    var scalarText: String? {
        switch self {
        case .string(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .double(let number): String(number)
        case .bytes, .array, .map: nil
        }
    }
}

/// A key and its value.
public struct Attribute: Sendable, Equatable {
    public var key: String
    public var value: AttributeValue

    public init(key: String, value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

extension Array where Element == Attribute {
    /// The first value under `key`; spans carry few attributes, so a scan beats a dictionary.
    public subscript(key key: String) -> AttributeValue? {
        first { $0.key == key }?.value
    }

    func text(_ key: String) -> String? {
        self[key: key]?.scalarText
    }
}

/// The resource and scope a group of spans shares, decoded once per group.
public struct SpanOrigin: Sendable {
    public var resourceAttributes: [Attribute]
    public var scopeName: String?

    public init(resourceAttributes: [Attribute], scopeName: String?) {
        self.resourceAttributes = resourceAttributes
        self.scopeName = scopeName
    }

    public var serviceName: String {
        resourceAttributes.text("service.name") ?? "unknown_service"
    }
}

/// A span as a decoder read it, before validation: ids are raw bytes (nil when the
/// encoding itself was broken, such as bad hex), times are nanoseconds since the epoch.
public struct SpanInput: Sendable {
    public var traceID: [UInt8]?
    public var spanID: [UInt8]?
    /// Empty when the span is a root.
    public var parentSpanID: [UInt8]?
    public var name: String
    public var kind: SpanKind
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    public var attributes: [Attribute]
    public var events: [EventInput]
    public var statusCode: StatusCode
    public var statusMessage: String
    /// Index into the origins of the decoded request.
    public var origin: Int

    /// OTLP's span status codes.
    public enum StatusCode: Sendable {
        case unset, ok, error
    }

    public init(
        traceID: [UInt8]?, spanID: [UInt8]?, parentSpanID: [UInt8]?, name: String, kind: SpanKind,
        startTimeUnixNano: UInt64, endTimeUnixNano: UInt64, attributes: [Attribute], events: [EventInput],
        statusCode: StatusCode, statusMessage: String, origin: Int
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.attributes = attributes
        self.events = events
        self.statusCode = statusCode
        self.statusMessage = statusMessage
        self.origin = origin
    }
}

/// A span event (an exception, a log line) as decoded.
public struct EventInput: Sendable {
    public var name: String
    public var timeUnixNano: UInt64
    public var attributes: [Attribute]

    public init(name: String, timeUnixNano: UInt64, attributes: [Attribute]) {
        self.name = name
        self.timeUnixNano = timeUnixNano
        self.attributes = attributes
    }
}

/// Everything one request carried: spans and the resources/scopes they point into.
public struct DecodedExport: Sendable {
    public var origins: [SpanOrigin]
    public var spans: [SpanInput]

    public init(origins: [SpanOrigin] = [], spans: [SpanInput] = []) {
        self.origins = origins
        self.spans = spans
    }
}

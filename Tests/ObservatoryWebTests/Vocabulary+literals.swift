import Foundation
import ObservatoryStore

// The fixtures of these tests were written when the read models held names as strings
// (`status: "ok"`, `operation: "tool_invoke"`). In the tests only, a name may still be
// written as its string literal; one the vocabulary does not hold stops the test. The
// service's own code has no such conversion: there a name is always one of the types.

extension SpanKind: ExpressibleByStringLiteral {
    public init(stringLiteral name: String) { self = literal(name) }
}

extension SpanOperation: ExpressibleByStringLiteral {
    public init(stringLiteral name: String) { self = literal(name) }
}

extension SpanStatus: ExpressibleByStringLiteral {
    public init(stringLiteral name: String) { self = literal(name) }
}

extension Health: ExpressibleByStringLiteral {
    public init(stringLiteral name: String) { self = literal(name) }
}

extension MetricLevel: ExpressibleByStringLiteral {
    public init(stringLiteral name: String) { self = literal(name) }
}

private func literal<Name: StoredName>(_ name: String) -> Name {
    guard let value = Name(rawValue: name) else { fatalError("\(Name.self) has no name \(name.debugDescription)") }
    return value
}

extension StoredSpan {
    /// A span whose operation is a name held in a `String` (SpanTreeTests' helper).
    init(
        spanID: String, parentSpanID: String?, name: String, kind: SpanKind, operation: String, target: String?,
        serviceName: String, scopeName: String?, startTime: Date, endTime: Date, durationMs: Double, status: SpanStatus,
        statusMessage: String?, attributesJSON: String, resourceAttributesJSON: String, eventsJSON: String
    ) {
        self.init(
            spanID: spanID, parentSpanID: parentSpanID, name: name, kind: kind, operation: literal(operation),
            target: target, serviceName: serviceName, scopeName: scopeName, startTime: startTime, endTime: endTime,
            durationMs: durationMs, status: status, statusMessage: statusMessage, attributesJSON: attributesJSON,
            resourceAttributesJSON: resourceAttributesJSON, eventsJSON: eventsJSON)
    }
}

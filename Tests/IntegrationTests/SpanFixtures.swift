import Foundation
import ObservatoryStore

/// Span records for store and writer tests.
enum SpanFixtures {
    static func record(
        trace: TraceID, span: UInt64, parent: UInt64? = nil, name: String = "op", service: String = "svc",
        startOffsetMillis: UInt64 = 0, durationMillis: UInt64 = 10, status: SpanStatus = .ok,
        base: UInt64 = nowUnixNano()
    ) -> SpanRecord {
        let start = base + startOffsetMillis * 1_000_000
        return SpanRecord(
            traceID: trace, spanID: SpanID(span), parentSpanID: parent.map(SpanID.init), name: name, kind: .internal,
            operation: .internal, target: nil, serviceName: service, scopeName: nil, startTimeUnixNano: start,
            endTimeUnixNano: start + durationMillis * 1_000_000, status: status, statusMessage: nil, attributesJSON: "{}",
            resourceAttributesJSON: "{}", eventsJSON: "[]")
    }

    static func nowUnixNano() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1e9)
    }
}

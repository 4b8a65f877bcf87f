import ObservatoryStore
import Tracing

/// The identity of a self-traced span as it travels in `InstrumentationContext`: children
/// take their trace id and parent from it, and `traceparent` is written from it. A
/// context extracted from an incoming `traceparent` has the caller's span as `spanID`.
public struct SelfSpanContext: Sendable, Hashable {
    public var traceID: TraceID
    public var spanID: SpanID
    /// Whether the trace is recorded. Decided once per trace, from its id
    /// (``TracePolicy/samples(_:rate:)``), so a trace is kept or dropped as a whole.
    public var sampled: Bool

    public init(traceID: TraceID, spanID: SpanID, sampled: Bool) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    /// A W3C `traceparent` header value: `00-<trace id>-<span id>-<flags>`. Nil when the
    /// value is malformed, as the recommendation says: such a header starts a new trace.
    public init?(traceparent value: String) {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[0].allSatisfy(\.isHexDigit),
            parts[0] != "00" || parts.count == 4,
            parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            let traceID = TraceID(hex: parts[1].lowercased()), traceID.isValid,
            let spanID = SpanID(hex: parts[2].lowercased()), spanID.isValid,
            let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        self.init(traceID: traceID, spanID: spanID, sampled: flags & 1 == 1)
    }

    /// This context as a `traceparent` header value.
    public var traceparent: String {
        "00-\(traceID.hex)-\(spanID.hex)-\(sampled ? "01" : "00")"
    }
}

/// The current self-traced span's identity.
enum SelfSpanContextKey: InstrumentationContextKey {
    typealias Value = SelfSpanContext
    static var nameOverride: String? { "observatory-span" }
}

/// Set for work that must leave no span at all, not even DB children: requests to an
/// excluded path (`OBSERVABILITY_EXCLUDE_PATHS`).
enum TracingSuppressedKey: InstrumentationContextKey {
    typealias Value = Bool
    static var nameOverride: String? { "observatory-tracing-suppressed" }
}

extension InstrumentationContext {
    /// The current self-traced span, or the caller's span from `traceparent`.
    public internal(set) var selfSpanContext: SelfSpanContext? {
        get { self[SelfSpanContextKey.self] }
        set { self[SelfSpanContextKey.self] = newValue }
    }

    /// Whether spans started under this context are dropped unrecorded.
    public var tracingSuppressed: Bool {
        get { self[TracingSuppressedKey.self] ?? false }
        set { self[TracingSuppressedKey.self] = newValue }
    }
}

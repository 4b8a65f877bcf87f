/// One span in the shape of a row of `observability.spans`: validated, redacted and
/// classified by the ingest layer, with its JSON columns already serialized.
public struct SpanRecord: Sendable, Equatable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID?
    public var name: String
    public var kind: SpanKind
    public var operation: SpanOperation
    /// What dashboards group by: tool name, prompt name, resource URI, route, SQL operation.
    public var target: String?
    public var serviceName: String
    public var scopeName: String?
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    public var status: SpanStatus
    public var statusMessage: String?
    /// A JSON object, already redacted.
    public var attributesJSON: String
    /// A JSON object, already redacted; usually shared by every span of one export.
    public var resourceAttributesJSON: String
    /// A JSON array of `{"name", "time", "attributes"}` objects.
    public var eventsJSON: String

    public init(
        traceID: TraceID, spanID: SpanID, parentSpanID: SpanID?, name: String, kind: SpanKind,
        operation: SpanOperation, target: String?, serviceName: String, scopeName: String?,
        startTimeUnixNano: UInt64, endTimeUnixNano: UInt64, status: SpanStatus, statusMessage: String?,
        attributesJSON: String, resourceAttributesJSON: String, eventsJSON: String
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.operation = operation
        self.target = target
        self.serviceName = serviceName
        self.scopeName = scopeName
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.status = status
        self.statusMessage = statusMessage
        self.attributesJSON = attributesJSON
        self.resourceAttributesJSON = resourceAttributesJSON
        self.eventsJSON = eventsJSON
    }

    /// The duration in milliseconds, from nanoseconds, so sub-microsecond spans keep their length.
    public var durationMilliseconds: Double {
        endTimeUnixNano >= startTimeUnixNano ? Double(endTimeUnixNano - startTimeUnixNano) / 1_000_000 : 0
    }
}

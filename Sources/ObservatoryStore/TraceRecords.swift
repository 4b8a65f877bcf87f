import Foundation

/// A trace as the trace list shows it: the `traces` row, plus, for failed traces, the
/// span where the failure began (what broke and why).
public struct TraceSummary: Sendable, Equatable {
    public var traceID: String
    public var rootName: String
    public var serviceName: String
    public var startTime: Date
    public var endTime: Date
    public var durationMs: Double
    public var spanCount: Int
    public var errorCount: Int
    /// `ok` or `error`.
    public var status: SpanStatus
    public var firstError: FailedSpan?

    public init(
        traceID: String, rootName: String, serviceName: String, startTime: Date, endTime: Date, durationMs: Double,
        spanCount: Int, errorCount: Int, status: SpanStatus, firstError: FailedSpan?
    ) {
        self.traceID = traceID
        self.rootName = rootName
        self.serviceName = serviceName
        self.startTime = startTime
        self.endTime = endTime
        self.durationMs = durationMs
        self.spanCount = spanCount
        self.errorCount = errorCount
        self.status = status
        self.firstError = firstError
    }
}

/// Where a trace's failure began: its earliest failed span without a failed child.
public struct FailedSpan: Sendable, Equatable {
    public var name: String
    public var operation: SpanOperation
    public var target: String?
    public var message: String?

    public init(name: String, operation: SpanOperation, target: String?, message: String?) {
        self.name = name
        self.operation = operation
        self.target = target
        self.message = message
    }
}

/// One stored span, every column, for the trace detail page. Attributes and events stay
/// JSON text: the page shows them as stored.
public struct StoredSpan: Sendable, Equatable {
    public var spanID: String
    public var parentSpanID: String?
    public var name: String
    public var kind: SpanKind
    public var operation: SpanOperation
    public var target: String?
    public var serviceName: String
    public var scopeName: String?
    public var startTime: Date
    public var endTime: Date
    public var durationMs: Double
    public var status: SpanStatus
    public var statusMessage: String?
    public var attributesJSON: String
    public var resourceAttributesJSON: String
    public var eventsJSON: String

    public init(
        spanID: String, parentSpanID: String?, name: String, kind: SpanKind, operation: SpanOperation, target: String?,
        serviceName: String, scopeName: String?, startTime: Date, endTime: Date, durationMs: Double, status: SpanStatus,
        statusMessage: String?, attributesJSON: String, resourceAttributesJSON: String, eventsJSON: String
    ) {
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.operation = operation
        self.target = target
        self.serviceName = serviceName
        self.scopeName = scopeName
        self.startTime = startTime
        self.endTime = endTime
        self.durationMs = durationMs
        self.status = status
        self.statusMessage = statusMessage
        self.attributesJSON = attributesJSON
        self.resourceAttributesJSON = resourceAttributesJSON
        self.eventsJSON = eventsJSON
    }
}

/// What the trace list is filtered by. Every field narrows; nil means "any".
public struct TraceFilter: Sendable, Equatable {
    public var since: Date
    /// The latest start time shown: the server's clock plus the future skew ingestion
    /// allows (``SpanTimeRange``), so future-dated rows never top a "recent" list.
    public var until: Date
    /// `ok` or `error`.
    public var status: SpanStatus?
    public var operation: SpanOperation?
    public var target: String?
    public var minDurationMs: Double?
    /// Case-insensitive substring of the trace's root span name.
    public var search: String?
    /// Only traces whose root service is this one. Without it the service's own traces
    /// (``SelfService/name``) are left out: they are not users' data.
    public var service: String?
    /// Only traces with an MCP request counted at this server (`calls.server_name`, the
    /// server of the tools, prompts and resources pages), of `operation` and `target`
    /// when those are set too.
    public var server: String?
    /// Only traces with at most this duration.
    public var maxDurationMs: Double?
    /// Only traces with an MCP request of this session (`calls.session_id`, the span
    /// attribute `mcp.session.id`).
    public var session: String?
    /// Only traces with one span that meets every one of these conditions. The trace list
    /// checks them on the newest ``TraceStore/attributeScanLimit`` traces of the window
    /// that pass the other filters; an export checks every trace of the window.
    public var attributes: [AttributeCondition]
    public var limit: Int
    public var offset: Int

    public init(
        since: Date, until: Date? = nil, status: SpanStatus? = nil, operation: SpanOperation? = nil, target: String? = nil,
        minDurationMs: Double? = nil, search: String? = nil, service: String? = nil, server: String? = nil,
        maxDurationMs: Double? = nil, session: String? = nil, attributes: [AttributeCondition] = [],
        limit: Int = 50, offset: Int = 0
    ) {
        self.since = since
        self.until = until ?? SpanTimeRange.latestShown(now: Date())
        self.status = status
        self.operation = operation
        self.target = target
        self.minDurationMs = minDurationMs
        self.search = search
        self.service = service
        self.server = server
        self.maxDurationMs = maxDurationMs
        self.session = session
        self.attributes = attributes
        self.limit = limit
        self.offset = offset
    }
}

import Foundation
import ObservatoryStore

/// A trace laid out for the Gantt chart and the flame graph: spans in tree order (depth
/// first, children by start time) with their depth, offset from the trace start, and
/// whether they lie on the critical path. Computed here, once, so the page script only
/// draws, and the JSON API gives the same layout. Linear in the spans (see `SpanTree`).
public struct TraceTimeline: Sendable, Codable, Equatable {
    public struct Span: Sendable, Codable, Equatable {
        public var spanID: String
        public var parentSpanID: String?
        public var name: String
        public var operation: SpanOperation
        public var target: String?
        public var service: String
        public var kind: SpanKind
        public var startOffsetMs: Double
        public var durationMs: Double
        public var status: SpanStatus
        public var statusMessage: String?
        public var depth: Int
        /// On the critical path: the chain of work the trace's end waited for.
        public var critical: Bool
        /// A database span over ``SlowQuery/threshold``.
        public var slow: Bool
        /// Where its duration falls among its target's over the last 24 hours; nil when
        /// it has none (see `observability.span_ranks`).
        public var rank: SpanRank? = nil

        enum CodingKeys: String, CodingKey {
            case spanID = "span_id", parentSpanID = "parent_span_id", name, operation, target, service, kind
            case startOffsetMs = "start_offset_ms", durationMs = "duration_ms", status
            case statusMessage = "status_message", depth, critical, slow, rank
        }
    }

    public var traceID: String
    public var start: Date
    public var end: Date
    public var durationMs: Double
    public var status: SpanStatus
    public var spanCount: Int
    public var services: [String]
    public var spans: [Span]

    enum CodingKeys: String, CodingKey {
        case traceID = "trace_id", start, end, durationMs = "duration_ms", status, spanCount = "span_count"
        case services, spans
    }

    public init(summary: TraceSummary, spans stored: [StoredSpan]) {
        let tree = SpanTree(stored)
        let critical = tree.criticalPath()
        // A set beside the list: a trace may name thousands of services, and a search of
        // the list per span would be quadratic.
        var services: [String] = []
        var seen = Set<String>()
        for span in stored where seen.insert(span.serviceName).inserted { services.append(span.serviceName) }
        let origin = summary.startTime
        self.traceID = summary.traceID
        self.start = summary.startTime
        self.end = summary.endTime
        self.durationMs = summary.durationMs
        self.status = summary.status
        self.spanCount = stored.count
        self.services = services
        self.spans = tree.order.map { index in
            let span = stored[index]
            return Span(
                spanID: span.spanID, parentSpanID: span.parentSpanID, name: span.name, operation: span.operation,
                target: span.target, service: span.serviceName, kind: span.kind,
                startOffsetMs: (span.startTime.timeIntervalSince(origin) * 1_000_000).rounded() / 1000,
                durationMs: span.durationMs,
                status: span.status, statusMessage: span.statusMessage, depth: tree.depth[index],
                critical: critical.contains(index),
                slow: SlowQuery.isSlow(span.operation, durationMs: span.durationMs))
        }
    }

    /// Gives each span its rank from `ranks` (by span id).
    public mutating func attach(ranks: [String: SpanRank]) {
        guard !ranks.isEmpty else { return }
        for index in spans.indices { spans[index].rank = ranks[spans[index].spanID] }
    }
}

import Foundation
import PostgresNIO

/// One row of an aligned comparison (`observability.trace_compare` and
/// `trace_compare_typical`, migrations/0016): a node of either span tree, with its span in
/// each side. A side that lacks the node has nil span id and duration.
public struct AlignedSpan: Sendable, Equatable {
    public var depth: Int
    public var serviceName: String
    public var name: String
    public var target: String?
    public var operation: SpanOperation
    /// The node's place in start order among its siblings of the same service, name and target (1 = first).
    public var ordinal: Int
    /// How many siblings of that service, name and target each side has (B: the sample's median).
    public var repeatsA: Int?
    public var repeatsB: Int?
    public var spanIDA: String?
    public var spanIDB: String?
    public var durationA: Double?
    public var durationB: Double?
    public var statusA: SpanStatus?
    public var statusB: SpanStatus?
    /// Of a typical trace: how many of its sample's traces had the node.
    public var tracesB: Int?

    public init(
        depth: Int, serviceName: String, name: String, target: String?, operation: SpanOperation, ordinal: Int,
        repeatsA: Int?, repeatsB: Int?, spanIDA: String?, spanIDB: String?, durationA: Double?, durationB: Double?,
        statusA: SpanStatus?, statusB: SpanStatus?, tracesB: Int?
    ) {
        self.depth = depth
        self.serviceName = serviceName
        self.name = name
        self.target = target
        self.operation = operation
        self.ordinal = ordinal
        self.repeatsA = repeatsA
        self.repeatsB = repeatsB
        self.spanIDA = spanIDA
        self.spanIDB = spanIDB
        self.durationA = durationA
        self.durationB = durationB
        self.statusA = statusA
        self.statusB = statusB
        self.tracesB = tracesB
    }
}

/// The traces a typical trace was built from (`observability.typical_trace_sample`).
public struct TypicalSample: Sendable, Equatable {
    public var traceIDs: [TraceID]
    /// The sample's trace durations, newest trace first.
    public var durations: [Double]
    public var spans: Int
    /// A trace of the kind in the range was left out by the trace or span limit.
    public var bounded: Bool
}

extension TraceStore {
    /// Traces `a` and `b` aligned, in tree order; empty when neither is stored.
    public func compare(_ a: TraceID, _ b: TraceID) async throws(DatabaseError) -> [AlignedSpan] {
        try await aligned("SELECT \(unescaped: Self.alignedColumns) FROM observability.trace_compare(\(a), \(b)) c")
    }

    /// Trace `a` aligned with the typical trace of `sample`.
    public func compare(_ a: TraceID, typical sample: [TraceID]) async throws(DatabaseError) -> [AlignedSpan] {
        try await aligned(
            "SELECT \(unescaped: Self.alignedColumns) FROM observability.trace_compare_typical(\(a), \(sample)) c")
    }

    /// The newest traces of `rootName` at `service` that started in [`since`, `until`),
    /// other than `excluding`, within the two limits.
    public func typicalSample(
        service: String, rootName: String, since: Date, until: Date, excluding: TraceID, maxTraces: Int, maxSpans: Int
    ) async throws(DatabaseError) -> TypicalSample {
        let query: PostgresQuery = """
            SELECT observability.hex_trace_id(s.trace_id), s.duration_ms, s.span_count, s.bounded
            FROM observability.typical_trace_sample(\(service), \(rootName), \(since), \(until), \(excluding), \(maxTraces)::integer, \(maxSpans)::integer) s
            """
        do {
            var sample = TypicalSample(traceIDs: [], durations: [], spans: 0, bounded: false)
            let rows = try await client.tracedQuery(query, logger: logger).decode((String, Double, Int, Bool).self)
            for (id, duration, spans, bounded) in rows {
                if let traceID = TraceID(hex: id) { sample.traceIDs.append(traceID) }
                sample.durations.append(duration)
                sample.spans += spans
                sample.bounded = bounded
            }
            return sample
        } catch {
            throw DatabaseError(error)
        }
    }

    /// One trace's spans with only what the trace's shape needs (ids, parent, start and
    /// end; the other fields empty): the comparison's critical paths. Attributes, events
    /// and resources, most of a full load (`spans(_:from:through:)`), are left in the
    /// database. `summary` is the trace's row (`summary(_:)`); its times bound the read.
    public func shapeSpans(of summary: TraceSummary, _ id: TraceID) async throws(DatabaseError) -> [StoredSpan] {
        let spansQuery: PostgresQuery = """
            SELECT observability.hex_span_id(s.span_id), observability.hex_span_id(s.parent_span_id), s.start_time, s.end_time
            FROM observability.spans s
            WHERE s.trace_id = \(id) AND s.start_time >= \(summary.startTime) AND s.start_time <= \(summary.endTime)
            ORDER BY s.start_time, s.span_id
            """
        do {
            let rows = try await client.tracedQuery(spansQuery, logger: logger).decode((String, String?, Date, Date).self)
            var spans: [StoredSpan] = []
            for (spanID, parent, start, end) in rows {
                spans.append(
                    StoredSpan(
                        spanID: spanID, parentSpanID: parent, name: "", kind: .unspecified, operation: .internal, target: nil,
                        serviceName: "", scopeName: nil, startTime: start, endTime: end, durationMs: 0, status: .unset,
                        statusMessage: nil, attributesJSON: "{}", resourceAttributesJSON: "{}", eventsJSON: "[]"))
            }
            return spans
        } catch {
            throw DatabaseError(error)
        }
    }

    static let alignedColumns = """
        c.depth, c.service_name, c.name, c.target, c.operation, c.ordinal, c.repeats_a, c.repeats_b,
        observability.hex_span_id(c.span_id_a), observability.hex_span_id(c.span_id_b), c.duration_a_ms, c.duration_b_ms,
        c.status_a, c.status_b, c.traces_b
        """

    private func aligned(_ query: PostgresQuery) async throws(DatabaseError) -> [AlignedSpan] {
        do {
            var result: [AlignedSpan] = []
            let rows = try await client.tracedQuery(query, logger: logger)
            for row in rows {
                let (
                    depth, service, name, target, operation, ordinal, repeatsA, repeatsB, spanA, spanB, durationA, durationB,
                    statusA, statusB, tracesB
                ) = try row.decode(
                    (
                        Int, String, String, String?, SpanOperation, Int, Int?, Int?, String?, String?, Double?, Double?,
                        SpanStatus?, SpanStatus?, Int?
                    ).self)
                result.append(
                    AlignedSpan(
                        depth: depth, serviceName: service, name: name, target: target, operation: operation,
                        ordinal: ordinal, repeatsA: repeatsA, repeatsB: repeatsB, spanIDA: spanA, spanIDB: spanB,
                        durationA: durationA, durationB: durationB, statusA: statusA, statusB: statusB, tracesB: tracesB))
            }
            return result
        } catch {
            throw DatabaseError(error)
        }
    }
}

import Foundation
import ObservatoryStore

/// A comparison: trace A, side B (trace B, or the typical trace of A's kind), and their
/// span trees aligned in tree order, each row marked where it lies on either side's
/// critical path. The page (`CompareView`) and `/api/v1/compare` both show it.
struct ComparePayload: Sendable {
    /// One aligned row and whether its span is on each side's critical path (never on a
    /// typical side: no one trace's path stands for a median).
    struct Row: Sendable {
        var span: AlignedSpan
        var criticalA: Bool
        var criticalB: Bool

        /// Which side alone has the node; nil when both do.
        var only: Side? {
            if span.durationB == nil { return .a }
            if span.durationA == nil { return .b }
            return nil
        }

        /// A − B, when both sides have the node.
        var differenceMs: Double? {
            guard let a = span.durationA, let b = span.durationB else { return nil }
            return a - b
        }

        /// The difference as a share of B, when B is not zero.
        var differencePercent: Double? {
            guard let difference = differenceMs, let b = span.durationB, b > 0 else { return nil }
            return difference / b * 100
        }
    }

    enum Side: String, Sendable, Encodable {
        case a, b
    }

    /// One compared trace: its summary and the spans on its critical path, found as the
    /// trace page finds them (`SpanTree.criticalPath`).
    struct Trace: Sendable {
        var summary: TraceSummary
        var spanCount: Int
        var critical: Set<String>

        init(summary: TraceSummary, spans: [StoredSpan]) {
            self.summary = summary
            spanCount = spans.count
            critical = Set(SpanTree(spans).criticalPath().map { spans[$0].spanID })
        }
    }

    /// What a typical side was built from.
    struct Typical: Sendable {
        var window: MetricWindow
        var rootName: String
        var service: String
        var sample: TypicalSample
        /// The sample's median trace duration (PERCENTILE_CONT 0.5); nil for an empty sample.
        var medianDurationMs: Double?
    }

    var query: CompareQuery
    var a: Trace
    /// Trace B; nil against a typical trace.
    var b: Trace?
    var typical: Typical?
    var rows: [Row]
    /// Span paths of the typical trace that this trace lacks and fewer than half of the
    /// sample's traces had: left out of `rows`, counted here. A kind whose traces vary
    /// (a different tool per request) has hundreds of such paths, each "in 1 of 100",
    /// which would bury the rows that say what is unusual about this trace. A child path
    /// is never more common than its parent's, so what is left is still a tree.
    var rareTypicalPaths = 0

    /// Spans of a side that no row shows: only spans in a parent cycle, which have no root
    /// to hang from (the trace page cuts such cycles; the alignment leaves them out).
    var unalignedA: Int { a.spanCount - rows.filter { $0.span.spanIDA != nil }.count }
    var unalignedB: Int { b.map { $0.spanCount - rows.filter { $0.span.spanIDB != nil }.count } ?? 0 }

    var durationB: Double? { b?.summary.durationMs ?? typical?.medianDurationMs }

    init(query: CompareQuery, a: Trace, b: Trace?, typical: Typical?, aligned: [AlignedSpan]) {
        self.query = query
        self.a = a
        self.b = b
        self.typical = typical
        let criticalA = a.critical
        let criticalB = b?.critical ?? []
        var aligned = aligned
        if let typical {
            let sampled = typical.sample.traceIDs.count
            let before = aligned.count
            aligned.removeAll { $0.durationA == nil && ($0.tracesB ?? 0) * 2 < sampled }
            rareTypicalPaths = before - aligned.count
        }
        rows = aligned.map {
            Row(
                span: $0, criticalA: $0.spanIDA.map(criticalA.contains) ?? false,
                criticalB: $0.spanIDB.map(criticalB.contains) ?? false)
        }
    }

    /// The median of `values` as PERCENTILE_CONT(0.5) computes it; nil when empty.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// The comparison's JSON (`/api/v1/compare`), in the read API's style: snake_case keys,
/// durations in milliseconds, a side that lacks a span written as null.
struct CompareJSON: Encodable {
    var payload: ComparePayload

    struct TraceSide: Encodable {
        var trace: ComparePayload.Trace

        enum CodingKeys: String, CodingKey {
            case traceID = "trace_id", rootName = "root_name", service, start, durationMs = "duration_ms"
            case spanCount = "span_count", status, criticalSpans = "critical_spans"
        }

        func encode(to encoder: any Encoder) throws {
            var json = encoder.container(keyedBy: CodingKeys.self)
            try json.encode(trace.summary.traceID, forKey: .traceID)
            try json.encode(trace.summary.rootName, forKey: .rootName)
            try json.encode(trace.summary.serviceName, forKey: .service)
            try json.encode(trace.summary.startTime, forKey: .start)
            try json.encode(trace.summary.durationMs, forKey: .durationMs)
            try json.encode(trace.spanCount, forKey: .spanCount)
            try json.encode(trace.summary.status, forKey: .status)
            try json.encode(trace.critical.count, forKey: .criticalSpans)
        }
    }

    struct TypicalSide: Encodable {
        var typical: ComparePayload.Typical

        enum CodingKeys: String, CodingKey {
            case window, rootName = "root_name", service, traces, spans, bounded, maxTraces = "max_traces"
            case maxSpans = "max_spans", durationMs = "duration_ms"
        }

        func encode(to encoder: any Encoder) throws {
            var json = encoder.container(keyedBy: CodingKeys.self)
            try json.encode(typical.window, forKey: .window)
            try json.encode(typical.rootName, forKey: .rootName)
            try json.encode(typical.service, forKey: .service)
            try json.encode(typical.sample.traceIDs.count, forKey: .traces)
            try json.encode(typical.sample.spans, forKey: .spans)
            try json.encode(typical.sample.bounded, forKey: .bounded)
            try json.encode(CompareQuery.typicalMaxTraces, forKey: .maxTraces)
            try json.encode(CompareQuery.typicalMaxSpans, forKey: .maxSpans)
            try json.encode(typical.medianDurationMs, forKey: .durationMs)
        }
    }

    struct RowJSON: Encodable {
        var row: ComparePayload.Row

        enum CodingKeys: String, CodingKey {
            case depth, service, name, target, operation, ordinal, repeatsA = "repeats_a", repeatsB = "repeats_b"
            case spanIDA = "span_id_a", spanIDB = "span_id_b", durationA = "duration_a_ms", durationB = "duration_b_ms"
            case difference = "difference_ms", percent = "difference_percent", statusA = "status_a", statusB = "status_b"
            case criticalA = "critical_a", criticalB = "critical_b", tracesB = "traces_b", only
        }

        func encode(to encoder: any Encoder) throws {
            var json = encoder.container(keyedBy: CodingKeys.self)
            let span = row.span
            try json.encode(span.depth, forKey: .depth)
            try json.encode(span.serviceName, forKey: .service)
            try json.encode(span.name, forKey: .name)
            try json.encode(span.target, forKey: .target)
            try json.encode(span.operation, forKey: .operation)
            try json.encode(span.ordinal, forKey: .ordinal)
            try json.encode(span.repeatsA, forKey: .repeatsA)
            try json.encode(span.repeatsB, forKey: .repeatsB)
            try json.encode(span.spanIDA, forKey: .spanIDA)
            try json.encode(span.spanIDB, forKey: .spanIDB)
            try json.encode(span.durationA, forKey: .durationA)
            try json.encode(span.durationB, forKey: .durationB)
            try json.encode(row.differenceMs, forKey: .difference)
            try json.encode(row.differencePercent, forKey: .percent)
            try json.encode(span.statusA, forKey: .statusA)
            try json.encode(span.statusB, forKey: .statusB)
            try json.encode(row.criticalA, forKey: .criticalA)
            try json.encode(row.criticalB, forKey: .criticalB)
            try json.encode(span.tracesB, forKey: .tracesB)
            try json.encode(row.only, forKey: .only)
        }
    }

    enum CodingKeys: String, CodingKey {
        case a, b, typical, rows, totals
    }

    enum TotalKeys: String, CodingKey {
        case durationA = "duration_a_ms", durationB = "duration_b_ms", difference = "difference_ms", matched
        case onlyA = "only_a", onlyB = "only_b", unalignedA = "unaligned_a", unalignedB = "unaligned_b"
        case rareTypicalPaths = "rare_typical_paths"
    }

    func encode(to encoder: any Encoder) throws {
        var json = encoder.container(keyedBy: CodingKeys.self)
        try json.encode(TraceSide(trace: payload.a), forKey: .a)
        try json.encode(payload.b.map(TraceSide.init), forKey: .b)
        try json.encode(payload.typical.map(TypicalSide.init), forKey: .typical)
        try json.encode(payload.rows.map(RowJSON.init), forKey: .rows)
        var totals = json.nestedContainer(keyedBy: TotalKeys.self, forKey: .totals)
        try totals.encode(payload.a.summary.durationMs, forKey: .durationA)
        try totals.encode(payload.durationB, forKey: .durationB)
        try totals.encode(payload.durationB.map { payload.a.summary.durationMs - $0 }, forKey: .difference)
        try totals.encode(payload.rows.filter { $0.only == nil }.count, forKey: .matched)
        try totals.encode(payload.rows.filter { $0.only == .a }.count, forKey: .onlyA)
        try totals.encode(payload.rows.filter { $0.only == .b }.count, forKey: .onlyB)
        try totals.encode(payload.unalignedA, forKey: .unalignedA)
        try totals.encode(payload.unalignedB, forKey: .unalignedB)
        try totals.encode(payload.rareTypicalPaths, forKey: .rareTypicalPaths)
    }
}

/// What the trace page's Gantt chart and flame graph draw of a trace: its spans in tree
/// order, except that a span's children beyond the first `TracePageLimits.siblingsDrawn`
/// become one summary row, and drawing stops after `TracePageLimits.drawnRows` rows with
/// the rest counted. Computed from the timeline's tree order and depths alone, in one pass
/// with an explicit stack: linear in the spans, whatever the trace's width or depth.
struct TraceDrawing: Sendable {
    /// Spans left out of the drawing, summarized in one row.
    struct Group: Sendable, Equatable {
        enum Reason: String, Sendable {
            /// A span's children (or the roots) after the first `siblingsDrawn`.
            case siblings
            /// Everything not drawn once `drawnRows` rows were drawn.
            case limit
        }

        var reason: Reason
        /// The span whose children these are; nil for roots and for the limit row.
        var parentSpanID: String?
        /// Index into `spans` of the drawn span this row comes before (`spans.count`: last).
        var before: Int
        /// The depth of the spans it stands for (their parent's depth + 1).
        var depth: Int
        /// Children of the parent left out (0 for the limit row).
        var children: Int
        /// Spans left out, the children's descendants included.
        var spans: Int
        var errors: Int
        var critical: Int
        /// Time range of the spans left out, in milliseconds after the trace's start.
        var startOffsetMs: Double
        var endOffsetMs: Double
        /// Tree-order row (index into the timeline's spans) of the first span left out,
        /// where the span table lists it.
        var firstRow: Int
        var firstSpanID: String
    }

    /// Rows of the timeline (indices into `TraceTimeline.spans`) that are drawn, in order.
    private(set) var spans: [Int] = []
    private(set) var groups: [Group] = []
    let totalSpans: Int

    /// Spans not drawn, in summaries of either kind.
    var omittedSpans: Int { totalSpans - spans.count }
    var isComplete: Bool { groups.isEmpty }

    init(_ timeline: TraceTimeline, siblingsDrawn: Int = TracePageLimits.siblingsDrawn, rowLimit: Int = TracePageLimits.drawnRows)
    {
        let rows = timeline.spans
        let count = rows.count
        totalSpans = count
        // In depth-first order a span's descendants are the rows after it up to the next
        // row at its depth or shallower: one stack pass finds where every subtree ends.
        var subtreeEnd = Array(repeating: count, count: count)
        var open: [Int] = []
        for index in 0..<count {
            while let last = open.last, rows[last].depth >= rows[index].depth {
                subtreeEnd[last] = index
                open.removeLast()
            }
            open.append(index)
        }

        /// The children of `parent` (nil: the roots) still to draw: rows `next..<end`,
        /// whose children are found by jumping from subtree to subtree.
        struct Frame {
            var parent: Int?
            var next: Int
            var end: Int
            var drawn: Int
        }
        var stack = [Frame(parent: nil, next: 0, end: count, drawn: 0)]
        // Every summary stands for at least one span, so a trace of at most `rowLimit`
        // spans always fits; a larger one keeps the last row for the limit's summary.
        let budget = count <= rowLimit ? rowLimit : rowLimit - 1
        var used = 0
        while var frame = stack.popLast() {
            guard frame.next < frame.end else { continue }
            guard used < budget else {
                stack.append(frame)
                break
            }
            if frame.drawn == siblingsDrawn {
                var children = 0
                var child = frame.next
                while child < frame.end {
                    children += 1
                    child = subtreeEnd[child]
                }
                var group = Self.summary(of: [frame.next..<frame.end], in: rows, reason: .siblings, before: spans.count)
                group.parentSpanID = frame.parent.map { rows[$0].spanID }
                group.children = children
                group.depth = frame.parent.map { rows[$0].depth + 1 } ?? 0
                groups.append(group)
                used += 1
                continue
            }
            let child = frame.next
            frame.next = subtreeEnd[child]
            frame.drawn += 1
            stack.append(frame)
            spans.append(child)
            used += 1
            stack.append(Frame(parent: child, next: child + 1, end: subtreeEnd[child], drawn: 0))
        }
        // The ranges still on the stack are disjoint and hold exactly what was not reached.
        let rest = stack.filter { $0.next < $0.end }.map { $0.next..<$0.end }
        if !rest.isEmpty {
            groups.append(Self.summary(of: rest, in: rows, reason: .limit, before: spans.count))
        }
    }

    /// One summary row for the rows in `ranges` (disjoint, so every row is looked at
    /// once over the whole drawing).
    private static func summary(
        of ranges: [Range<Int>], in rows: [TraceTimeline.Span], reason: Group.Reason, before: Int
    ) -> Group {
        var group = Group(
            reason: reason, parentSpanID: nil, before: before, depth: 0, children: 0, spans: 0, errors: 0, critical: 0,
            startOffsetMs: .infinity, endOffsetMs: -.infinity, firstRow: Int.max, firstSpanID: "")
        for range in ranges {
            group.spans += range.count
            if range.lowerBound < group.firstRow {
                group.firstRow = range.lowerBound
                group.firstSpanID = rows[range.lowerBound].spanID
            }
            for row in range {
                let span = rows[row]
                if span.status == .error { group.errors += 1 }
                if span.critical { group.critical += 1 }
                group.startOffsetMs = min(group.startOffsetMs, span.startOffsetMs)
                group.endOffsetMs = max(group.endOffsetMs, span.startOffsetMs + max(span.durationMs, 0))
            }
        }
        return group
    }
}

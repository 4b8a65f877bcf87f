import Foundation
import ObservatoryStore

/// The parent/child structure of one trace's spans, by index into the stored spans.
/// Span data is untrusted: parents may be missing (a root as far as we can tell), and
/// links may even form cycles; every span is placed exactly once regardless.
///
/// Everything here is linear in the number of spans, apart from at most two sorts of all
/// of them (by start, skipped when the spans arrive sorted as the store returns them, and
/// by end for the critical path), and nothing recurses: a trace may hold 50,000 children
/// of one span or a chain 50,000 deep, and a walk per child or a call per level would
/// take minutes or overflow the stack.
struct SpanTree {
    let spans: [StoredSpan]
    /// Children of each span, by start time. Always agrees with `parent`.
    private(set) var children: [[Int]]
    /// Indices of spans without a parent in the trace, by start time.
    private(set) var roots: [Int]
    /// The parent of each span, when it is in the trace.
    private(set) var parent: [Int?]
    /// Depth-first order, the order of the rows of the Gantt chart.
    private(set) var order: [Int] = []
    private(set) var depth: [Int]

    init(_ spans: [StoredSpan]) {
        self.spans = spans
        let count = spans.count
        var indexByID: [String: Int] = [:]
        indexByID.reserveCapacity(count)
        for (index, span) in spans.enumerated() where indexByID[span.spanID] == nil { indexByID[span.spanID] = index }
        parent = Array(repeating: nil, count: count)
        for (index, span) in spans.enumerated() {
            if let parentID = span.parentSpanID, let parentIndex = indexByID[parentID], parentIndex != index {
                parent[index] = parentIndex
            }
        }
        // Appending in one start order for the whole trace leaves every child list and the
        // roots sorted, with no sort per span.
        let byStart = Self.startOrder(spans)
        children = Array(repeating: [], count: count)
        roots = []
        for index in byStart {
            if let up = parent[index] { children[up].append(index) } else { roots.append(index) }
        }
        depth = Array(repeating: 0, count: count)
        order.reserveCapacity(count)

        var visited = Array(repeating: false, count: count)
        var stack: [Int] = []
        func walk(from root: Int) {
            stack.append(root)
            visited[root] = true
            while let index = stack.popLast() {
                order.append(index)
                for child in children[index].reversed() where !visited[child] {
                    visited[child] = true
                    depth[child] = depth[index] + 1
                    stack.append(child)
                }
            }
        }
        for root in roots { walk(from: root) }
        // Spans only reachable through a cycle have no root above them: the earliest
        // unvisited one becomes a root, its cycle is cut there. A span has one parent, so
        // it is in at most one cycle and each child list is searched at most once.
        for index in byStart where !visited[index] {
            if let up = parent[index] { children[up].removeAll { $0 == index } }
            parent[index] = nil
            depth[index] = 0
            roots.append(index)
            walk(from: index)
        }
    }

    /// The span indices by start time, ties in stored order. The store returns spans in
    /// start order, so one linear check usually replaces the sort.
    static func startOrder(_ spans: [StoredSpan]) -> [Int] {
        let order = Array(spans.indices)
        let sorted = zip(spans, spans.dropFirst()).allSatisfy { $0.startTime <= $1.startTime }
        if sorted { return order }
        return order.sorted {
            spans[$0].startTime < spans[$1].startTime || (spans[$0].startTime == spans[$1].startTime && $0 < $1)
        }
    }

    /// The spans on the critical path of each root, the way Jaeger computes it: from the
    /// span's end, step into the child that finished last before the current point, and
    /// when a span has no such child, its own remaining time is critical and the walk
    /// returns to its parent at this span's start. Children are clipped to their parent's
    /// time first (a child outliving its parent cannot delay it). Summing the heaviest
    /// children instead would mark work that ran in parallel with the real bottleneck.
    /// One difference from Jaeger: a sibling that ended exactly when the returning child
    /// started counts (Jaeger asks for strictly earlier), so back-to-back steps are all
    /// on the path; each span is stepped into once, which keeps zero-length spans from
    /// being revisited.
    ///
    /// Linear after one sort: each span's children are kept latest end first, and the
    /// point the walk looks back from only moves earlier within a span (it is the start
    /// of the child just left, which ended by the previous point), so a child passed
    /// over, taken or too late, never qualifies again and one cursor per span suffices.
    /// Looking through every child at every return made a root with 50,000 sequential
    /// children take 2.5 billion steps.
    func criticalPath() -> Set<Int> { criticalWalk().spans }

    /// The critical path and the steps its walk took: each child looked at, each span
    /// stepped into and each return to a parent counts one. Linear means at most three
    /// steps a span; the tests hold the walk to that, where a clock would measure
    /// the machine as much as the walk.
    func criticalWalk() -> (spans: Set<Int>, steps: Int) {
        let count = spans.count
        let clipped = clippedBounds()
        var rank = Array(repeating: 0, count: count)
        for (position, index) in order.enumerated() { rank[index] = position }
        // Latest end first; among equal ends the earliest start, as a scan in start order
        // keeping the first of the latest would choose.
        let latestFirst = spans.indices
            .filter { parent[$0] != nil && clipped[$0].start <= clipped[$0].end }
            .sorted { clipped[$0].end > clipped[$1].end || (clipped[$0].end == clipped[$1].end && rank[$0] < rank[$1]) }
        var byEnd = Array(repeating: [Int](), count: count)
        for index in latestFirst {
            if let up = parent[index] { byEnd[up].append(index) }
        }

        var critical = Set<Int>(minimumCapacity: count)
        var passed = Array(repeating: 0, count: count)
        var steps = 0
        for root in roots {
            var current = root
            var cursor: Date? = nil
            while true {
                critical.insert(current)
                steps += 1
                var next: Int? = nil
                while passed[current] < byEnd[current].count {
                    let child = byEnd[current][passed[current]]
                    passed[current] += 1
                    steps += 1
                    if let limit = cursor, clipped[child].end > limit { continue }
                    next = child
                    break
                }
                if let child = next {
                    current = child
                    cursor = nil
                    continue
                }
                guard current != root, let up = parent[current] else { break }
                cursor = clipped[current].start
                current = up
            }
        }
        return (critical, steps)
    }

    /// Each span's time clipped to its ancestors', as Jaeger sanitizes before the walk.
    /// Computed in tree order, so a parent's bounds are ready before its children's.
    private func clippedBounds() -> [(start: Date, end: Date)] {
        var bounds = spans.map { (start: $0.startTime, end: $0.endTime) }
        for index in order {
            guard let up = parent[index] else { continue }
            bounds[index] = (max(bounds[index].start, bounds[up].start), min(bounds[index].end, bounds[up].end))
        }
        return bounds
    }
}

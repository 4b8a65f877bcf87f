import Foundation
import ObservatoryStore

/// The parent/child structure of one trace's spans, by index into the stored spans.
/// Span data is untrusted: parents may be missing (a root as far as we can tell), and
/// links may even form cycles; every span is placed exactly once regardless.
struct SpanTree {
    let spans: [StoredSpan]
    /// Children of each span, by start time.
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
        var indexByID: [String: Int] = [:]
        for (index, span) in spans.enumerated() where indexByID[span.spanID] == nil { indexByID[span.spanID] = index }
        children = Array(repeating: [], count: spans.count)
        parent = Array(repeating: nil, count: spans.count)
        roots = []
        depth = Array(repeating: 0, count: spans.count)
        for (index, span) in spans.enumerated() {
            if let parentID = span.parentSpanID, let parentIndex = indexByID[parentID], parentIndex != index {
                parent[index] = parentIndex
                children[parentIndex].append(index)
            } else {
                roots.append(index)
            }
        }
        // Spans arrive in start order (the query sorts them); keep ties stable.
        let byStart: (Int, Int) -> Bool = { spans[$0].startTime < spans[$1].startTime || (spans[$0].startTime == spans[$1].startTime && $0 < $1) }
        roots.sort(by: byStart)
        for index in children.indices { children[index].sort(by: byStart) }

        var visited = Array(repeating: false, count: spans.count)
        func walk(from root: Int) {
            var stack: [(Int, Int)] = [(root, 0)]
            while let (index, level) = stack.popLast() {
                guard !visited[index] else { continue }
                visited[index] = true
                depth[index] = level
                order.append(index)
                for child in children[index].reversed() where !visited[child] { stack.append((child, level + 1)) }
            }
        }
        for root in roots { walk(from: root) }
        // Spans only reachable through a cycle have no root above them: the earliest
        // unvisited one becomes a root, its cycle is cut there.
        for index in spans.indices.sorted(by: byStart) where !visited[index] {
            parent[index] = nil
            roots.append(index)
            walk(from: index)
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
    func criticalPath() -> Set<Int> {
        var critical = Set<Int>()
        let clipped = clippedBounds()
        for root in roots {
            var current = root
            var cursor: Date? = nil
            var entered: Set<Int> = [root]
            var steps = 0
            while steps <= spans.count * 2 {
                steps += 1
                critical.insert(current)
                let bounds = clipped[current]
                // Coming down, any child may be the last to finish; coming back up from
                // a child, only those that finished before that child started.
                var candidate: Int? = nil
                for child in children[current] {
                    let span = clipped[child]
                    guard span.start <= span.end else { continue }
                    if entered.contains(child) { continue }
                    if let limit = cursor, span.end > limit { continue }
                    if let best = candidate, clipped[best].end >= span.end { continue }
                    candidate = child
                }
                if let child = candidate {
                    entered.insert(child)
                    current = child
                    cursor = nil
                    continue
                }
                guard current != root, let up = parent[current] else { break }
                cursor = bounds.start
                current = up
            }
        }
        return critical
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

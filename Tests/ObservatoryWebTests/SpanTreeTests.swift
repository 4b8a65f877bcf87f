import Foundation
import ObservatoryStore
import XCTest

@testable import ObservatoryWeb

/// Tree order and the critical path, on hand-made traces whose answer is known.
final class SpanTreeTests: XCTestCase {
    /// A span from `start` to `end` milliseconds after a fixed origin.
    static func span(_ id: String, parent: String? = nil, _ start: Double, _ end: Double, operation: String = "internal")
        -> StoredSpan
    {
        let origin = Date(timeIntervalSince1970: 1_700_000_000)
        return StoredSpan(
            spanID: id, parentSpanID: parent, name: id, kind: "internal", operation: operation, target: nil,
            serviceName: "svc", scopeName: nil, startTime: origin.addingTimeInterval(start / 1000),
            endTime: origin.addingTimeInterval(end / 1000), durationMs: end - start, status: "ok", statusMessage: nil,
            attributesJSON: "{}", resourceAttributesJSON: "{}", eventsJSON: "[]")
    }

    static func critical(_ spans: [StoredSpan]) -> Set<String> {
        let tree = SpanTree(spans)
        return Set(tree.criticalPath().map { spans[$0].spanID })
    }

    func testParallelChildrenOnlyTheLastToFinishIsCritical() {
        // B runs alongside A and finishes last; the root waited for B, not for A.
        let spans = [Self.span("root", 0, 100), Self.span("A", parent: "root", 0, 40), Self.span("B", parent: "root", 10, 90)]
        XCTAssertEqual(Self.critical(spans), ["root", "B"])
    }

    func testSequentialChildrenAreAllCritical() {
        let spans = [
            Self.span("root", 0, 100), Self.span("A", parent: "root", 0, 30), Self.span("B", parent: "root", 30, 60),
            Self.span("C", parent: "root", 60, 100),
        ]
        XCTAssertEqual(Self.critical(spans), ["root", "A", "B", "C"])
    }

    func testWalkReturnsToParentAndTakesTheChildThatFinishedBeforeIt() {
        // root → B (last); back at B's start (85), A (ended 80) is next; inside A, A2 is
        // last, and A1 ended exactly when A2 started. X is a long child of A that ran in
        // parallel with A2 but ended before it: a sum-of-heaviest walk would pick X.
        let spans = [
            Self.span("root", 0, 100),
            Self.span("A", parent: "root", 0, 80),
            Self.span("A1", parent: "A", 0, 20),
            Self.span("X", parent: "A", 1, 70),
            Self.span("A2", parent: "A", 20, 75),
            Self.span("B", parent: "root", 85, 95),
        ]
        XCTAssertEqual(Self.critical(spans), ["root", "A", "A1", "A2", "B"])
    }

    func testChildOutlivingItsParentIsClippedFirst() {
        // A ends after the root; clipped to the root's end it is still the last to finish.
        let spans = [Self.span("root", 0, 100), Self.span("A", parent: "root", 50, 150), Self.span("B", parent: "root", 10, 99)]
        XCTAssertEqual(Self.critical(spans), ["root", "A"])
    }

    func testTreeOrderDepthAndSeveralRoots() {
        let spans = [
            Self.span("r1", 0, 50), Self.span("r2", 5, 60), Self.span("c1", parent: "r1", 1, 10),
            Self.span("c2", parent: "r1", 2, 20), Self.span("g", parent: "c1", 3, 4),
            Self.span("orphan", parent: "missing", 6, 7),
        ]
        let tree = SpanTree(spans)
        XCTAssertEqual(tree.order.map { spans[$0].spanID }, ["r1", "c1", "g", "c2", "r2", "orphan"])
        XCTAssertEqual(tree.order.map { tree.depth[$0] }, [0, 1, 2, 1, 0, 0])
        // Each root has a path of its own; c1 ran alongside c2 and ended first.
        XCTAssertEqual(Self.critical(spans), ["r1", "c2", "r2", "orphan"])
    }

    func testCyclesAreCutAndEverySpanPlacedOnce() {
        let spans = [
            Self.span("a", parent: "b", 0, 10), Self.span("b", parent: "a", 1, 5), Self.span("self", parent: "self", 2, 3),
        ]
        let tree = SpanTree(spans)
        XCTAssertEqual(tree.order.count, 3)
        XCTAssertEqual(Set(tree.order), [0, 1, 2])
        _ = tree.criticalPath()
    }

    func testZeroLengthSpansEndTheWalk() {
        let spans = [Self.span("root", 0, 10), Self.span("z1", parent: "root", 5, 5), Self.span("z2", parent: "root", 5, 5)]
        XCTAssertEqual(Self.critical(spans), ["root", "z1", "z2"])
    }

    func testAThousandSpanChainNeedsNoRecursion() {
        var spans = [Self.span("s0", 0, 1000)]
        for index in 1..<1000 {
            spans.append(Self.span("s\(index)", parent: "s\(index - 1)", Double(index) / 2, 1000 - Double(index) / 2))
        }
        let tree = SpanTree(spans)
        XCTAssertEqual(tree.depth[999], 999)
        XCTAssertEqual(tree.criticalPath().count, 1000)
    }

    /// A root `count` ms long and `count` children one after another, 1 ms each: the
    /// shape of a batch job or an agent loop, and the one that made the layout quadratic.
    static func wide(_ count: Int) -> [StoredSpan] {
        var spans = [span("root", 0, Double(count))]
        spans.reserveCapacity(count + 1)
        for index in 0..<count { spans.append(span("c\(index)", parent: "root", Double(index), Double(index + 1))) }
        return spans
    }

    /// `count` spans, each the only child of the one before and nested inside it.
    static func chain(_ count: Int) -> [StoredSpan] {
        var spans = [span("s0", 0, Double(count))]
        spans.reserveCapacity(count)
        for index in 1..<count {
            spans.append(span("s\(index)", parent: "s\(index - 1)", Double(index) / 2, Double(count) - Double(index) / 2))
        }
        return spans
    }

    func testFiftyThousandSequentialChildren() {
        let spans = Self.wide(50_000)
        let tree = SpanTree(spans)
        XCTAssertEqual(tree.roots, [0])
        XCTAssertEqual(tree.children[0].count, 50_000)
        XCTAssertEqual(tree.order, Array(0...50_000))
        XCTAssertEqual(tree.depth[0], 0)
        XCTAssertEqual(Set(tree.depth.dropFirst()), [1])
        // Each child ended exactly when the next began: the root waited for every one.
        XCTAssertEqual(tree.criticalPath(), Set(0...50_000))
    }

    func testFiftyThousandDeepChainNeedsNoRecursion() {
        let spans = Self.chain(50_000)
        let tree = SpanTree(spans)
        XCTAssertEqual(tree.order, Array(0..<50_000))
        XCTAssertEqual(tree.depth, Array(0..<50_000))
        XCTAssertEqual(tree.criticalPath(), Set(0..<50_000))
        let timeline = TraceTimeline(summary: Self.summary(spans), spans: spans)
        XCTAssertEqual(timeline.spans.last?.depth, 49_999)
        XCTAssertEqual(timeline.spans.last?.parentSpanID, "s49998")
    }

    func testSpansOutOfStartOrderAreSortedOnce() {
        // The store sorts by start; anything else must come out the same all the same.
        let sorted = Self.wide(1_000)
        let shuffled = Array(sorted.reversed())
        let tree = SpanTree(shuffled)
        XCTAssertEqual(tree.order.map { shuffled[$0].spanID }, sorted.map(\.spanID))
        XCTAssertEqual(tree.children[1_000].map { shuffled[$0].spanID }, sorted.dropFirst().map(\.spanID))
        XCTAssertEqual(tree.criticalPath().count, 1_001)
    }

    func testParallelFanOutOnlyTheLastToFinishIsCritical() {
        // 10,000 children all started with the root; the one ending last (c7) is the path,
        // and the walk must find nothing else that ended before c7 started.
        var spans = [Self.span("root", 0, 200)]
        for index in 0..<10_000 { spans.append(Self.span("c\(index)", parent: "root", 0, index == 7 ? 199 : 100)) }
        XCTAssertEqual(Self.critical(spans), ["root", "c7"])
    }

    func testCriticalWalkTakesAtMostThreeStepsASpan() {
        // Each span is stepped into once, returned to at most once per child taken, and
        // each child is looked at once: at most 3 steps a span, whatever the shape. The
        // walk that looked through every child at every return took n²/2 on `wide`.
        var fanOut = [Self.span("root", 0, 200)]
        for index in 0..<10_000 { fanOut.append(Self.span("c\(index)", parent: "root", 0, index == 7 ? 199 : 100)) }
        let shapes: [(String, [StoredSpan])] = [
            ("wide", Self.wide(20_000)), ("chain", Self.chain(20_000)), ("fan-out", fanOut),
            ("thousand-span chain", Self.chain(1_000)),
        ]
        for (name, spans) in shapes {
            let walk = SpanTree(spans).criticalWalk()
            XCTAssertFalse(walk.spans.isEmpty, name)
            XCTAssertLessThanOrEqual(walk.steps, 3 * spans.count, "\(name): \(walk.steps) steps for \(spans.count) spans")
        }
    }

    static func summary(_ spans: [StoredSpan]) -> TraceSummary {
        TraceSummary(
            traceID: String(repeating: "ab", count: 16), rootName: spans[0].name, serviceName: "svc",
            startTime: spans[0].startTime,
            endTime: spans[0].endTime, durationMs: spans[0].durationMs, spanCount: spans.count, errorCount: 0, status: "ok",
            firstError: nil)
    }

    func testTimelineFlagsSlowDatabaseSpansAndOffsets() {
        let spans = [
            Self.span("root", 0, 3000), Self.span("q1", parent: "root", 10, 1011, operation: "db_query"),
            Self.span("q2", parent: "root", 1100, 2000, operation: "db_query"),
        ]
        let summary = TraceSummary(
            traceID: String(repeating: "ab", count: 16), rootName: "root", serviceName: "svc", startTime: spans[0].startTime,
            endTime: spans[0].endTime, durationMs: 3000, spanCount: 3, errorCount: 0, status: "ok", firstError: nil)
        let timeline = TraceTimeline(summary: summary, spans: spans)
        XCTAssertEqual(timeline.spans.map(\.slow), [false, true, false])
        XCTAssertEqual(timeline.spans[1].startOffsetMs, 10, accuracy: 0.001)
        XCTAssertEqual(timeline.spans.map(\.depth), [0, 1, 1])
    }
}

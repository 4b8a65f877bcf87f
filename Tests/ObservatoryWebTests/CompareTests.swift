import Foundation
import ObservatoryStore
import XCTest

@testable import ObservatoryWeb

/// The comparison's parameters, its figures and its rows, without a database.
final class CompareTests: XCTestCase {
    let a = String(repeating: "a", count: 32)
    let b = String(repeating: "b", count: 32)

    func testParsesTwoTracesTheTypicalFormAndTheTickedList() throws {
        XCTAssertEqual(
            try CompareQuery(query: "a=\(a)&b=\(b)"),
            CompareQuery(a: TraceID(hex: a)!, against: .trace(TraceID(hex: b)!)))
        XCTAssertEqual(try CompareQuery(query: "a=\(a)&typical=7d").against, .typical(.week))
        XCTAssertEqual(try CompareQuery(query: "a=\(a)&typical=").against, .typical(.day))
        XCTAssertEqual(
            try CompareQuery(query: "trace=\(b)&trace=\(a)"),
            CompareQuery(a: TraceID(hex: b)!, against: .trace(TraceID(hex: a)!)))
        // The same trace twice is allowed.
        XCTAssertEqual(try CompareQuery(query: "a=\(a)&b=\(a)").against, .trace(TraceID(hex: a)!))
        XCTAssertEqual(try CompareQuery(query: "a=\(a.uppercased())&b=\(b)").a.hex, a)
    }

    func testRefusesWhatIsNotAComparisonWithAPreciseMessage() {
        let cases: [(String, String)] = [
            ("", "a (a trace id) is required"),
            ("a=xyz&b=\(b)", "a must be a trace id of 32 hexadecimal digits (got \"xyz\")"),
            ("a=\(a)&b=\(String(repeating: "0", count: 32))", "b must be a trace id of 32 hexadecimal digits"),
            ("a=\(a)", "give b (another trace id) or typical (a window: 1h, 24h, 7d or 30d)"),
            ("a=\(a)&b=\(b)&typical=24h", "give b or typical, not both"),
            ("a=\(a)&typical=2d", "window must be one of 1h, 24h, 7d, 30d (got \"2d\")"),
            ("trace=\(a)", "tick exactly two traces to compare (got 1)"),
            ("trace=\(a)&trace=\(b)&trace=\(a)", "tick exactly two traces to compare (got 3)"),
            ("a=%zz", "the query string has a malformed %-escape"),
        ]
        for (query, message) in cases {
            XCTAssertThrowsError(try CompareQuery(query: query), query) { error in
                let text = (error as? BadQuery)?.message ?? ""
                XCTAssertTrue(text.hasPrefix(message), "\(query): \(text)")
            }
        }
    }

    func testFormPairsKeepRepeatsInOrderAndFormParametersKeepsTheLast() {
        let pairs = formPairs("trace=1&x=a+b&trace=2")
        XCTAssertEqual(pairs?.map(\.0), ["trace", "x", "trace"])
        XCTAssertEqual(pairs?.map(\.1), ["1", "a b", "2"])
        XCTAssertEqual(formParameters("trace=1&trace=2")?["trace"], "2")
        XCTAssertNil(formPairs("a=%"))
    }

    func testMedianIsPercentileContHalf() {
        XCTAssertNil(ComparePayload.median([]))
        XCTAssertEqual(ComparePayload.median([5]), 5)
        XCTAssertEqual(ComparePayload.median([9, 1, 5]), 5)
        XCTAssertEqual(ComparePayload.median([4, 1, 10, 2]), 3)
    }

    func testDifferenceReadsWithSignAndShare() {
        XCTAssertEqual(CompareView.difference(50, base: 100), "+50.0 ms (+50.0 %)")
        XCTAssertEqual(CompareView.difference(-25, base: 100), "−25.0 ms (−25.0 %)")
        XCTAssertEqual(CompareView.difference(3, base: 0), "+3.00 ms")
        XCTAssertEqual(CompareView.difference(0, base: 10), "±0.00 ms (±0.0 %)")
        XCTAssertEqual(CompareView.repeats(nil), "–")
        XCTAssertEqual(CompareView.repeats(1), "1")
        XCTAssertEqual(CompareView.repeats(3), "×3")
    }

    func testRowsMarkOnlyOneSideAndCriticalPathAndEscapeNames() {
        let now = Date()
        let summary = TraceSummary(
            traceID: a, rootName: "r", serviceName: "s", startTime: now, endTime: now.addingTimeInterval(0.01),
            durationMs: 10, spanCount: 1, errorCount: 0, status: .ok, firstError: nil)
        let root = StoredSpan(
            spanID: "00000000000000aa", parentSpanID: nil, name: "r", kind: .server, operation: .internal, target: nil,
            serviceName: "s", scopeName: nil, startTime: now, endTime: now.addingTimeInterval(0.01), durationMs: 10,
            status: .ok, statusMessage: nil, attributesJSON: "{}", resourceAttributesJSON: "{}", eventsJSON: "[]")
        let trace = ComparePayload.Trace(summary: summary, spans: [root])
        func span(_ name: String, _ durationA: Double?, _ durationB: Double?, ordinal: Int = 1) -> AlignedSpan {
            AlignedSpan(
                depth: 1, serviceName: "s<i>", name: name, target: "t\"x", operation: .dbQuery, ordinal: ordinal,
                repeatsA: durationA == nil ? nil : 3, repeatsB: durationB == nil ? nil : 2,
                spanIDA: durationA == nil ? nil : "00000000000000aa", spanIDB: nil, durationA: durationA,
                durationB: durationB, statusA: nil, statusB: nil, tracesB: nil)
        }
        let payload = ComparePayload(
            query: CompareQuery(a: TraceID(hex: a)!, against: .trace(TraceID(hex: a)!)), a: trace, b: trace,
            typical: nil,
            aligned: [
                span("<script>alert(1)</script>", 30, 10), span("gone", nil, 4), span("new", 2, nil, ordinal: 3),
            ])
        let html = CompareView.rows(payload)
        XCTAssertFalse(html.contains("<script>") || html.contains("<i>"), html)
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), html)
        XCTAssertTrue(html.contains("t&quot;x"), html)
        XCTAssertTrue(html.contains("<tr id=\"row-2\" class=\"compare-row only-b\" data-only=\"b\""), html)
        XCTAssertTrue(html.contains("<tr id=\"row-3\" class=\"compare-row only-a\" data-only=\"a\""), html)
        XCTAssertTrue(html.contains("+20.0 ms (+200.0 %)"), html)
        XCTAssertTrue(html.contains("#3"), html)
        XCTAssertTrue(html.contains("×3 / ×2"), html)
        // The root span id is on A's critical path: the first row's A duration is marked.
        XCTAssertTrue(html.contains("crit A"), html)
        XCTAssertEqual(payload.rows.map(\.only), [nil, .b, .a])
        XCTAssertEqual(payload.rows[0].differencePercent, 200)
    }
}

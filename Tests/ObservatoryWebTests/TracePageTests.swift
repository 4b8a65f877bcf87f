import Foundation
import ObservatoryStore
import XCTest

@testable import ObservatoryWeb

/// The trace page of a very large trace: what the charts draw (`TraceDrawing`), which
/// rows the span table lists, what the notices say, and that building it all stays
/// linear. Expected outlines are counted from the traces' shapes, not from the code.
final class TracePageTests: XCTestCase {
    typealias Trees = SpanTreeTests

    static func timeline(_ spans: [StoredSpan]) -> TraceTimeline {
        TraceTimeline(summary: Trees.summary(spans), spans: spans)
    }

    static func page(_ spans: [StoredSpan], page: Int = 1) throws -> TraceView {
        let chrome = Chrome(title: "t", chartsAvailable: true, refreshSeconds: 60)
        return try TraceView(
            payload: TraceDetailPayload(trace: timeline(spans), spans: spans), chrome: chrome, query: TracePageQuery(page: page))
    }

    /// The page's embedded chart data, parsed.
    static func data(_ view: TraceView) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(view.timelineJSON.utf8)) as? [String: Any])
    }

    static func tableRowIDs(_ view: TraceView) -> [String] {
        view.spanRowsHTML.components(separatedBy: "<tr id=\"span-").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    func testFiftyThousandChildrenAreDrawnAsTheFirstFiftyAndOneSummary() {
        let spans = Trees.wide(50_000)
        let drawing = TraceDrawing(Self.timeline(spans))
        let siblings = TracePageLimits.siblingsDrawn
        // Tree order is the stored order here: root, c0, c1, ...
        XCTAssertEqual(drawing.spans, Array(0...siblings))
        XCTAssertEqual(drawing.groups.count, 1)
        let group = drawing.groups[0]
        XCTAssertEqual(group.reason, .siblings)
        XCTAssertEqual(group.parentSpanID, "root")
        XCTAssertEqual(group.before, siblings + 1)
        XCTAssertEqual(group.depth, 1)
        XCTAssertEqual(group.children, 50_000 - siblings)
        XCTAssertEqual(group.spans, 50_000 - siblings)
        XCTAssertEqual(group.critical, 50_000 - siblings)
        XCTAssertEqual(group.errors, 0)
        XCTAssertEqual(group.firstRow, siblings + 1)
        XCTAssertEqual(group.firstSpanID, "c\(siblings)")
        XCTAssertEqual(group.startOffsetMs, Double(siblings), accuracy: 0.001)
        XCTAssertEqual(group.endOffsetMs, 50_000, accuracy: 0.001)
        XCTAssertEqual(drawing.omittedSpans, 50_000 - siblings)
    }

    func testDeepChainStopsAtTheRowLimitWithOneSummaryRow() {
        let spans = Trees.chain(20_000)
        let drawing = TraceDrawing(Self.timeline(spans))
        let limit = TracePageLimits.drawnRows
        XCTAssertEqual(drawing.spans.count + drawing.groups.count, limit)
        XCTAssertEqual(drawing.spans, Array(0..<(limit - 1)))
        XCTAssertEqual(drawing.groups.map(\.reason), [.limit])
        XCTAssertEqual(drawing.groups[0].spans, 20_000 - (limit - 1))
        XCTAssertEqual(drawing.groups[0].firstRow, limit - 1)
        XCTAssertEqual(drawing.groups[0].before, limit - 1)
    }

    func testEachLargeSiblingGroupIsSummarizedUnderItsOwnParent() {
        // root → 10 children → 100 grandchildren each, every 7th grandchild failed.
        var spans = [Trees.span("root", 0, 10_000)]
        for child in 0..<10 {
            let base = Double(child) * 1_000
            spans.append(Trees.span("c\(child)", parent: "root", base, base + 1_000))
            for grandchild in 0..<100 {
                var span = Trees.span(
                    "g\(child)-\(grandchild)", parent: "c\(child)", base + Double(grandchild) * 10,
                    base + Double(grandchild) * 10 + 5)
                if grandchild % 7 == 0 { span.status = "error" }
                spans.append(span)
            }
        }
        let timeline = Self.timeline(spans)
        let drawing = TraceDrawing(timeline)
        let siblings = TracePageLimits.siblingsDrawn
        XCTAssertEqual(drawing.spans.count, 1 + 10 * (1 + siblings))
        XCTAssertEqual(drawing.groups.count, 10)
        let failedLeftOut = (siblings..<100).filter { $0 % 7 == 0 }.count
        for (child, group) in drawing.groups.enumerated() {
            XCTAssertEqual(group.parentSpanID, "c\(child)")
            XCTAssertEqual(group.children, 100 - siblings)
            XCTAssertEqual(group.errors, failedLeftOut)
            XCTAssertEqual(group.depth, 2)
            XCTAssertEqual(timeline.spans[group.firstRow].spanID, "g\(child)-\(siblings)")
            // Placed after the parent's drawn children, before the next child.
            let next = group.before < drawing.spans.count ? timeline.spans[drawing.spans[group.before]].spanID : nil
            XCTAssertEqual(next, child < 9 ? "c\(child + 1)" : nil)
        }
    }

    func testManyRootsAreSummarizedToo() {
        // Spans whose parents never arrived are roots; 200 of them.
        let spans = (0..<200).map { Trees.span("o\($0)", parent: "missing\($0)", Double($0), Double($0) + 1) }
        let drawing = TraceDrawing(Self.timeline(spans))
        XCTAssertEqual(drawing.spans.count, TracePageLimits.siblingsDrawn)
        XCTAssertEqual(drawing.groups.count, 1)
        XCTAssertNil(drawing.groups[0].parentSpanID)
        XCTAssertEqual(drawing.groups[0].children, 200 - TracePageLimits.siblingsDrawn)
        XCTAssertEqual(drawing.groups[0].depth, 0)
    }

    func testSmallTraceIsDrawnWhole() throws {
        let spans = Trees.wide(TracePageLimits.siblingsDrawn)
        let view = try Self.page(spans)
        XCTAssertNil(view.drawingNotice)
        XCTAssertNil(view.tableNotice)
        XCTAssertEqual(Self.tableRowIDs(view).count, spans.count)
        let data = try Self.data(view)
        XCTAssertEqual((data["spans"] as? [Any])?.count, spans.count)
        XCTAssertEqual((data["groups"] as? [Any])?.count, 0)
    }

    func testFiftyThousandSpanPageIsBoundedAndSaysSo() throws {
        let spans = Trees.wide(50_000)
        let perPage = TracePageLimits.tableRows
        let view = try Self.page(spans)
        let ids = Self.tableRowIDs(view)
        XCTAssertEqual(ids.count, perPage)
        XCTAssertEqual(ids.first, "root")
        XCTAssertEqual(ids.last, "c\(perPage - 2)")
        let pages = (50_001 + perPage - 1) / perPage
        XCTAssertEqual(
            view.tableNotice,
            "Showing spans 1–\(Format.count(perPage)) of 50,001, in tree order (page 1 of \(pages), \(perPage) a page).")
        XCTAssertNil(view.previousPageURL)
        XCTAssertEqual(view.nextPageURL, "/admin/observability/traces/\(String(repeating: "ab", count: 16))?page=2#span-table")
        let notice = try XCTUnwrap(view.drawingNotice)
        XCTAssertTrue(
            notice.hasPrefix(
                "This trace has 50,001 spans; the timeline and the flame graph draw \(TracePageLimits.siblingsDrawn + 1) of them."
            ), notice)
        XCTAssertTrue(notice.contains("The span table lists every span."), notice)

        let data = try Self.data(view)
        XCTAssertEqual(data["span_count"] as? Int, 50_001)
        XCTAssertEqual(data["drawn_spans"] as? Int, TracePageLimits.siblingsDrawn + 1)
        let drawn = try XCTUnwrap(data["spans"] as? [[String: Any]])
        XCTAssertEqual(drawn.count, TracePageLimits.siblingsDrawn + 1)
        XCTAssertEqual(drawn.map { $0["row"] as? Int }, (0...TracePageLimits.siblingsDrawn).map { $0 })
        let groups = try XCTUnwrap(data["groups"] as? [[String: Any]])
        XCTAssertEqual(groups.count, 1)
        XCTAssertEqual(groups[0]["children"] as? Int, 50_000 - TracePageLimits.siblingsDrawn)
        XCTAssertEqual(groups[0]["parent_span_id"] as? String, "root")
        let limits = try XCTUnwrap(data["limits"] as? [String: Int])
        XCTAssertEqual(limits["rows"], TracePageLimits.drawnRows)
        XCTAssertEqual(limits["table_rows"], perPage)
        XCTAssertEqual(data["table_page"] as? Int, 1)
    }

    func testLaterAndPastTheEndPagesOfTheTable() throws {
        let spans = Trees.wide(1_200)  // 1,201 spans: pages of 500, 500 and 201
        let perPage = TracePageLimits.tableRows
        let pages = (1_201 + perPage - 1) / perPage
        let last = try Self.page(spans, page: pages)
        XCTAssertEqual(Self.tableRowIDs(last).count, 1_201 - (pages - 1) * perPage)
        XCTAssertEqual(Self.tableRowIDs(last).last, "c1199")
        XCTAssertNil(last.nextPageURL)
        XCTAssertNotNil(last.previousPageURL)
        let past = try Self.page(spans, page: pages + 1)
        XCTAssertEqual(Self.tableRowIDs(past), [])
        XCTAssertEqual(
            past.tableNotice, "Page \(pages + 1) is past the end: this trace's 1,201 spans fill \(pages) pages of \(perPage).")
        XCTAssertEqual(
            past.previousPageURL, "/admin/observability/traces/\(String(repeating: "ab", count: 16))?page=\(pages)#span-table")
        XCTAssertEqual(try Self.data(past)["table_page"] as? Int, pages + 1)
    }

    func testDeepRowsAreIndentedNoFurtherThanTheLimit() throws {
        let spans = Trees.chain(TracePageLimits.tableRows)
        let html = try Self.page(spans).spanRowsHTML
        XCTAssertTrue(html.contains("padding-left: \(TracePageLimits.indentLevels * 14)px"))
        XCTAssertFalse(html.contains("padding-left: \((TracePageLimits.indentLevels + 1) * 14)px"))
        XCTAssertTrue(html.contains(" · depth \(TracePageLimits.tableRows - 1)"))
    }

    func testPageDataIsEscapedForItsScriptElement() throws {
        var spans = Trees.wide(TracePageLimits.siblingsDrawn + 5)
        let hostile = "</script><!-- \u{2028}\"\\\n\u{1} é & 😀"
        spans[0].name = hostile
        let script = try Self.page(spans).timelineJSON
        for forbidden in ["<", ">", "&", "\u{2028}"] { XCTAssertFalse(script.contains(forbidden), forbidden) }
        let data = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(script.utf8)) as? [String: Any])
        let drawn = try XCTUnwrap(data["spans"] as? [[String: Any]])
        XCTAssertEqual(drawn.first?["name"] as? String, hostile)
        XCTAssertEqual((data["groups"] as? [[String: Any]])?.first?["parent_span_id"] as? String, "root")
    }

    /// The table is built in two halves at once (`ParallelWork`); joined, they are the
    /// rows built in one piece, for an odd and an even count and a later page.
    func testTableBuiltInHalvesIsTheTableInOnePiece() throws {
        for (children, page) in [(0, 1), (6, 1), (999, 1), (TracePageLimits.tableRows + 2, 2)] {
            let spans = Trees.wide(children)
            let view = try Self.page(spans, page: page)
            let first = (page - 1) * TracePageLimits.tableRows
            let rows = first..<min(first + TracePageLimits.tableRows, spans.count)
            XCTAssertEqual(
                view.spanRowsHTML, SpanTable.rows(timeline: Self.timeline(spans), stored: spans, rows: rows), "\(spans.count)")
        }
        XCTAssertEqual(ParallelWork.all((0..<9).map { index in { @Sendable in index * index } }), (0..<9).map { $0 * $0 })
    }

    func testPageParameter() throws {
        XCTAssertEqual(try TracePageQuery([:]).page, 1)
        XCTAssertEqual(try TracePageQuery(["page": ""]).page, 1)
        XCTAssertEqual(try TracePageQuery(["page": "7"]).page, 7)
        XCTAssertEqual(try TracePageQuery(["page": String(TracePageLimits.maxTablePage)]).page, TracePageLimits.maxTablePage)
        for bad in ["0", "-1", "abc", "1.5", String(TracePageLimits.maxTablePage + 1), "9223372036854775808", "1e3"] {
            XCTAssertThrowsError(try TracePageQuery(["page": bad]), bad) { error in
                XCTAssertEqual(
                    (error as? BadQuery)?.message,
                    "page must be a number from 1 to \(TracePageLimits.maxTablePage) (got \(bad.debugDescription))")
            }
        }
    }

    /// The page and the API answer of `spans`, the best of three runs, in seconds.
    static func pageAndAPISeconds(_ spans: [StoredSpan]) throws -> Double {
        let chrome = Chrome(title: "t", chartsAvailable: true, refreshSeconds: 60)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            let payload = TraceDetailPayload(trace: timeline(spans), spans: spans)
            let view = try TraceView(payload: payload, chrome: chrome)
            let json = payload.json
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            XCTAssertFalse(view.spanRowsHTML.isEmpty)
            XCTAssertGreaterThan(json.count, spans.count * 100)
        }
        return best
    }

    func testPageAndAPIGrowLinearly() throws {
        // As in SpanTreeTests: ×8 spans, linear ×8, quadratic ×64; the bound is generous.
        for (name, make) in [("wide", Trees.wide), ("chain", Trees.chain)] as [(String, (Int) -> [StoredSpan])] {
            let small = try Self.pageAndAPISeconds(make(2_000))
            let large = try Self.pageAndAPISeconds(make(16_000))
            XCTAssertLessThan(large / small, 24, "\(name): \(small) s for 2,000 spans, \(large) s for 16,000")
        }
    }
}

import Foundation
import ObservatoryStore
import XCTest

@testable import ObservatoryWeb

/// The `attr` grammar of the trace list: each kind of condition, the text written back,
/// and a precise 400 message for each malformed form.
final class AttributeConditionTests: XCTestCase {
    func parse(_ text: String) throws -> AttributeCondition { try AttributeCondition(parsing: text) }

    func testEachKindOfCondition() throws {
        XCTAssertEqual(
            try parse("http.route=/mcp"), AttributeCondition(scope: .span, key: "http.route", comparison: .equals("/mcp")))
        XCTAssertEqual(
            try parse(" mcp.session.id != abc "),
            AttributeCondition(scope: .span, key: "mcp.session.id", comparison: .notEquals("abc")))
        XCTAssertEqual(
            try parse("gen_ai.tool.name exists"), AttributeCondition(scope: .span, key: "gen_ai.tool.name", comparison: .exists))
        XCTAssertEqual(
            try parse("http.response.status_code>499"),
            AttributeCondition(scope: .span, key: "http.response.status_code", comparison: .greaterThan(499)))
        XCTAssertEqual(try parse("size<1.5e3"), AttributeCondition(scope: .span, key: "size", comparison: .lessThan(1500)))
        XCTAssertEqual(
            try parse("resource:service.version=1.4.2"),
            AttributeCondition(scope: .resource, key: "service.version", comparison: .equals("1.4.2")))
        // The value is everything after the first operator, `=` included.
        XCTAssertEqual(try parse("url.query=a=b"), AttributeCondition(scope: .span, key: "url.query", comparison: .equals("a=b")))
        // A key holding an operator, a quote or a prefix is quoted; `""` is a quote.
        XCTAssertEqual(
            try parse("\"<img src=x>\"=1"), AttributeCondition(scope: .span, key: "<img src=x>", comparison: .equals("1")))
        XCTAssertEqual(
            try parse("resource:\"say \"\"hi\"\"\" exists"),
            AttributeCondition(scope: .resource, key: "say \"hi\"", comparison: .exists))
        XCTAssertEqual(
            try parse("\"resource:x\" != 2"), AttributeCondition(scope: .span, key: "resource:x", comparison: .notEquals("2")))
        // A value may end in " exists" or hold operators.
        XCTAssertEqual(try parse("a=it exists"), AttributeCondition(scope: .span, key: "a", comparison: .equals("it exists")))
        // An empty value means the empty string.
        XCTAssertEqual(try parse("note="), AttributeCondition(scope: .span, key: "note", comparison: .equals("")))
    }

    func testTextRoundTrips() throws {
        for text in [
            "http.route=/mcp", "a!=b", "k exists", "n>250", "n<-3.5", "resource:service.name=agent", "resource:x exists",
            "q=<script>alert(1)</script>", "\"<img src=x>\"=1", "resource:\"a\"\"b\" exists", "\"resource:x\">2",
            "\" padded \"=1",
        ] {
            XCTAssertEqual(try parse(text).text, text)
            XCTAssertEqual(try parse(try parse(text).text), try parse(text))
        }
    }

    func testMalformedConditionsAreRefusedPrecisely() {
        let cases: [(String, String)] = [
            ("http.route", "needs an operator"),
            ("=x", "names no attribute"),
            ("resource:=x", "names no attribute"),
            (" exists", "needs an operator"),
            ("a!b", "! must be followed by ="),
            ("\"open=1", "no closing"),
            ("\"k\" 1", "needs an operator after the key"),
            ("\"\"=1", "names no attribute"),
            ("n>abc", "compares numbers"),
            ("n<NaN", "compares numbers"),
            ("n>1e999", "compares numbers"),
            ("a=b\u{0}c", "control characters"),
            (String(repeating: "k", count: 201) + "=1", "key must be at most 200"),
            ("k=" + String(repeating: "v", count: 501), "value must be at most 500"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try parse(text), text.debugDescription) { error in
                let message = (error as? BadQuery)?.message ?? ""
                XCTAssertTrue(message.contains(expected), "\(text.debugDescription): \(message)")
                XCTAssertLessThan(message.count, 200, message)
            }
        }
    }

    func testCountLimitAndEmptyFields() throws {
        XCTAssertEqual(try AttributeCondition.parseAll(["", "  ", "a=1"]).count, 1)
        let many = (0...AttributeCondition.maxCount).map { "k\($0) exists" }
        XCTAssertThrowsError(try AttributeCondition.parseAll(many)) { error in
            XCTAssertEqual((error as? BadQuery)?.message, "at most 10 attr conditions (got 11)")
        }
    }

    func testTraceListQueryCarriesTheNewFilters() throws {
        let query = try TraceListQuery(
            ["window": "7d", "min_ms": "10", "max_ms": "250", "session": "s 1"],
            attributes: ["http.route=/mcp", "", "resource:service.version exists"])
        XCTAssertEqual(query.attributes.count, 2)
        let filter = query.filter(now: Date(timeIntervalSince1970: 1_000_000))
        XCTAssertEqual(filter.maxDurationMs, 250)
        XCTAssertEqual(filter.session, "s 1")
        XCTAssertEqual(filter.attributes, query.attributes)
        let items = query.filterItems
        XCTAssertEqual(items.filter { $0.name == "attr" }.map(\.value), ["http.route=/mcp", "resource:service.version exists"])
        // The canonical query string reads back to the same filters (what a saved view stores).
        let text = queryString(query.queryItems(page: 1))
        let again = try TraceListQuery(
            formParameters(text) ?? [:], attributes: formParameterValues(text, name: "attr") ?? [])
        XCTAssertEqual(again, query)
        XCTAssertThrowsError(try TraceListQuery(["min_ms": "300", "max_ms": "200"]))
        XCTAssertThrowsError(try TraceListQuery(["session": "a\u{1}"]))
        XCTAssertThrowsError(try TraceListQuery([:], attributes: ["nope"]))
    }

    func testRepeatedParametersAreReadInOrder() {
        XCTAssertEqual(formParameterValues("attr=a%3D1&x=2&attr=b+exists&attr=", name: "attr"), ["a=1", "b exists", ""])
        XCTAssertEqual(formParameterValues("x=1", name: "attr"), [])
        XCTAssertNil(formParameterValues("attr=%zz", name: "attr"))
    }

    func testSavedViewKeepsConditions() throws {
        let query = try SavedViewPage.traces.canonicalQuery(
            ["window": "1h", "page": "2"], attributes: ["n>5", "resource:service.name=a&b"])
        XCTAssertEqual(query, "window=1h&attr=n%3E5&attr=resource:service.name%3Da%26b&limit=50")
    }
}

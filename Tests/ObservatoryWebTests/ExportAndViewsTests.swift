import Foundation
import XCTest

@testable import ObservatoryWeb

/// The pieces of the exports and saved views that need no server: form decoding, CSV
/// fields, and the canonical query a view is stored with.
final class ExportAndViewsTests: XCTestCase {
    func testFormParametersReadPlusAsASpaceAndRefuseBadEscapes() {
        XCTAssertEqual(formParameters("q=two+words%2Bplus&window=1h"), ["q": "two words+plus", "window": "1h"])
        XCTAssertEqual(formParameters("a=1&a=2&flag&=x"), ["a": "2", "flag": "", "": "x"])
        XCTAssertEqual(formParameters(""), [:])
        XCTAssertNil(formParameters("q=%zz"))
        XCTAssertNil(formParameters("q=%E2%82"))  // a cut UTF-8 sequence
    }

    func testCSVFieldsAreQuotedAndFormulasDefused() {
        XCTAssertEqual(TraceListExport.csvField("plain"), "plain")
        XCTAssertEqual(TraceListExport.csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(TraceListExport.csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(TraceListExport.csvField("two\r\nlines"), "\"two\r\nlines\"")
        XCTAssertEqual(TraceListExport.csvField("=SUM(A1)"), "'=SUM(A1)")
        XCTAssertEqual(TraceListExport.csvField("-1,5"), "\"'-1,5\"")
        XCTAssertEqual(TraceListExport.csvField("@x"), "'@x")
        XCTAssertEqual(TraceListExport.csvField("a=b"), "a=b")
    }

    func testAViewIsStoredInItsPageCanonicalFormWithoutPaging() throws {
        XCTAssertEqual(
            try SavedViewPage.traces.canonicalQuery(["q": "a b", "page": "4", "status": "error", "window": "1h"]),
            "window=1h&status=error&q=a%20b&limit=50")
        XCTAssertEqual(
            try SavedViewPage.tools.canonicalQuery(["sort": "p95", "server": "s+1"]),
            "window=24h&limit=20&sort=p95&dir=desc&server=s%2B1")
        XCTAssertEqual(try SavedViewPage.metrics.canonicalQuery([:]), "window=24h&limit=10&sort=count&dir=desc")
        XCTAssertThrowsError(try SavedViewPage.traces.canonicalQuery(["window": "9y"]))
    }
}

import XCTest

@testable import ObservatoryDemo

final class ProgressBarTests: XCTestCase {
    func testBarShowsPercentCountAndRate() {
        XCTAssertEqual(
            ProgressBar.bar(label: "send", done: 50, total: 200, seconds: 2),
            "send [#######.......................] 25% 50/200 25/s"
        )
    }

    func testEmptyJobIsComplete() {
        XCTAssertEqual(
            ProgressBar.bar(label: "x", done: 0, total: 0, seconds: 0),
            "x [" + String(repeating: "#", count: 30) + "] 100% 0/0 -/s")
    }

    func testSummary() {
        XCTAssertEqual(ProgressBar.summary(label: "send", done: 3, total: 3, seconds: 2), "send: 3/3 in 2.0 s (1.5/s)")
    }

    func testUpdateClampsToTotal() {
        var bar = ProgressBar(total: 10, label: "t", isTerminal: false) { _ in }
        bar.update(25)
        XCTAssertEqual(bar.done, 10)
        bar.update(-3)
        XCTAssertEqual(bar.done, 0)
    }

    func testOffATerminalOnlyTheSummaryIsPrinted() {
        let output = Output()
        var bar = ProgressBar(total: 4, label: "send", isTerminal: false) { output.append($0) }
        for done in 1...4 { bar.update(done) }
        XCTAssertEqual(output.text, "")
        bar.finish()
        XCTAssertTrue(output.text.hasPrefix("send: 4/4 in "), output.text)
        XCTAssertEqual(output.text.filter { $0 == "\n" }.count, 1)
        XCTAssertFalse(output.text.contains("\r"))
    }

    func testOnATerminalTheBarIsRedrawnThenReplaced() {
        let output = Output()
        var bar = ProgressBar(total: 4, label: "send", isTerminal: true) { output.append($0) }
        bar.update(1)
        XCTAssertTrue(output.text.hasPrefix("\rsend ["), output.text)
        bar.update(4)  // the final state is always drawn
        XCTAssertTrue(output.text.contains("100% 4/4"), output.text)
        bar.finish()
        XCTAssertTrue(output.text.hasSuffix("\n"))
        XCTAssertTrue(output.text.contains("\u{1B}[2Ksend: 4/4 in "), output.text)
    }
}

/// Collects what a progress bar writes.
final class Output: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [String] = []

    func append(_ text: String) {
        lock.withLock { chunks.append(text) }
    }

    var text: String {
        lock.withLock { chunks.joined() }
    }
}

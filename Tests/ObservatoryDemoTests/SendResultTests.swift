import XCTest

@testable import ObservatoryDemo

final class SendResultTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_750_000_000)

    func testRetryAfterInSeconds() {
        XCTAssertEqual(SendResult.retryAfterSeconds(" 7 ", now: now), 7)
        XCTAssertEqual(SendResult.retryAfterSeconds("-4", now: now), 0)
    }

    func testRetryAfterAsHTTPDate() {
        XCTAssertEqual(SendResult.retryAfterSeconds("Sun, 15 Jun 2025 15:07:10 GMT", now: now), 30)
        XCTAssertEqual(SendResult.retryAfterSeconds("Sun, 15 Jun 2025 15:00:00 GMT", now: now), 0)
    }

    func testUnreadableRetryAfterIsIgnored() {
        XCTAssertNil(SendResult.retryAfterSeconds("soon", now: now))
    }

    func testErrorBodyBecomesAShortMessage() {
        let result = SendResult(statusCode: 400, retryAfter: nil, body: Data(String(repeating: "x", count: 1_000).utf8), now: now)
        XCTAssertNil(result.rejectedSpans)
        XCTAssertEqual(result.message?.count, SendResult.messageLimit)
        XCTAssertFalse(result.isSuccess)
        XCTAssertFalse(result.isRetryable)
    }
}

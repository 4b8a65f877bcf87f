import ObservatoryDemo
import ObservatoryOTLP
import SwiftProtobuf
import XCTest

/// The sender against a real (loopback) HTTP server.
final class OTLPSenderTests: XCTestCase {
    func testPostsProtobufWithBearerTokenAndReadsRejectedSpans() async throws {
        var answer = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        answer.partialSuccess.rejectedSpans = 2
        answer.partialSuccess.errorMessage = "2 spans had zero ids"
        let server = try OneShotHTTPServer(
            status: "200 OK", headers: ["Content-Type: application/x-protobuf"], body: try answer.serializedData())
        var traffic = DemoTrafficFactory.make(seed: 1)
        let request = traffic.makeRequest(traces: 20)

        let result = try await OTLPSender(endpoint: server.url, token: "t0k3n").send(request)

        XCTAssertEqual(result.statusCode, 200)
        XCTAssertTrue(result.isSuccess)
        XCTAssertEqual(result.rejectedSpans, 2)
        XCTAssertEqual(result.message, "2 spans had zero ids")
        let received = try XCTUnwrap(server.request)
        XCTAssertTrue(received.head.hasPrefix("POST /v1/traces HTTP/1.1"), received.head)
        XCTAssertEqual(received.header("Content-Type"), "application/x-protobuf")
        XCTAssertEqual(received.header("Authorization"), "Bearer t0k3n")
        XCTAssertNil(received.header("Content-Encoding"))
        XCTAssertEqual(received.body, try request.serializedData() as Data)
    }

    func testReportsRetryAfterWithoutRetrying() async throws {
        let server = try OneShotHTTPServer(
            status: "429 Too Many Requests", headers: ["Retry-After: 3"], body: Data("slow down".utf8))

        let result = try await OTLPSender(endpoint: server.url).send(
            body: Data([1, 2, 3]), contentType: "application/x-protobuf", contentEncoding: "gzip")

        XCTAssertEqual(result, SendResult(statusCode: 429, retryAfterSeconds: 3, rejectedSpans: nil, message: "slow down"))
        XCTAssertTrue(result.isRetryable)
        let received = try XCTUnwrap(server.request)
        XCTAssertNil(received.header("Authorization"))
        XCTAssertEqual(received.header("Content-Encoding"), "gzip")
        XCTAssertEqual(received.body, Data([1, 2, 3]))
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(server.connections, 1)
    }

    func testEmptyOKBodyMeansNothingRejected() async throws {
        let server = try OneShotHTTPServer(status: "200 OK")
        let result = try await OTLPSender(endpoint: server.url).send(body: Data(), contentType: "application/x-protobuf")
        XCTAssertEqual(result, SendResult(statusCode: 200, retryAfterSeconds: nil, rejectedSpans: 0, message: nil))
    }
}

import Foundation
import GRPCCore
import ObservatoryIngest
import ObservatoryOTLP
import SwiftProtobuf
import XCTest

@testable import ObservatoryWeb

/// OTLP/gRPC answers are OTLP/HTTP's in gRPC status codes, with the retry delay where HTTP
/// sends `Retry-After`.
final class GRPCAnswerTests: XCTestCase {
    func testWriterRefusalsCarryRetryInfoInBothTrailers() throws {
        let cases: [(SpanWriter.Rejection, RPCError.Code, Int64)] = [
            (.saturated(retryAfterSeconds: 1), .resourceExhausted, 1),
            (.unavailable(retryAfterSeconds: 2), .unavailable, 2),
            (.shuttingDown, .unavailable, 1),
        ]
        for (rejection, code, seconds) in cases {
            let error = GRPCAnswer.error(rejection)
            XCTAssertEqual(error.code, code, "\(rejection)")
            XCTAssertEqual(error.message, rejection.clientMessage)
            let details = try XCTUnwrap(error.metadata[binaryValues: GRPCAnswer.statusDetailsKey].first(where: { _ in true }))
            let status = try Google_Rpc_Status(serializedBytes: details)
            XCTAssertEqual(status.code, Int32(code.rawValue))
            XCTAssertEqual(status.details.map(\.typeURL), ["type.googleapis.com/google.rpc.RetryInfo"])
            let bare = try XCTUnwrap(error.metadata[binaryValues: GRPCAnswer.retryInfoKey].first(where: { _ in true }))
            XCTAssertEqual(Data(bare), status.details[0].value)
            // RetryInfo { retry_delay = 1 } holding a Duration { seconds = 1 }.
            XCTAssertEqual(Array(bare), [0x0A, 0x02, 0x08, UInt8(seconds)])
        }
    }

    func testRequestErrorsMapLikeHTTPWithoutRetryInfo() {
        let cases: [(any RequestFailure, RPCError.Code)] = [
            (IngestError.undecodable("bad"), .invalidArgument),
            (IngestError.tooLarge(limit: 10), .invalidArgument),
            (ExpandedLimitExceeded(message: "too much"), .invalidArgument),
            (SpanWriter.Rejection.failed("broken"), .internalError),
            (SpanWriter.Rejection.rejectedData("bad value"), .invalidArgument),
        ]
        for (failure, code) in cases {
            let error = GRPCAnswer.error(failure)
            XCTAssertEqual(error.code, code, "\(failure)")
            XCTAssertTrue(error.metadata.isEmpty, "\(failure)")
        }
    }

    func testStatusNames() {
        XCTAssertEqual(
            GRPCAnswer.statusName(of: ServerResponse<Int>(error: RPCError(code: .resourceExhausted, message: ""))),
            "resourceExhausted")
        XCTAssertEqual(GRPCAnswer.statusName(of: ServerResponse(message: 1)), "ok")
    }
}

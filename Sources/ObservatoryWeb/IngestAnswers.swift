import Foundation
import GRPCCore
import Hummingbird
import ObservatoryIngest
import ObservatoryOTLP
import SwiftProtobuf

/// OTLP/HTTP answers, encoded like the request (protobuf or JSON).
enum OTLPAnswer {
    static func success(_ outcome: IngestPipeline.Outcome, format: IngestFormat) -> Response {
        var message = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        if let rejection = outcome.rejectionMessage {
            message.partialSuccess.rejectedSpans = Int64(outcome.rejected)
            message.partialSuccess.errorMessage = rejection
        }
        return encode(message, status: .ok, format: format)
    }

    /// An error answer with a `google.rpc.Status` body.
    static func status(
        _ status: HTTPResponse.Status, _ text: String, format: IngestFormat, retryAfter: Int? = nil
    ) -> Response {
        var message = Google_Rpc_Status()
        message.code = Int32(grpcCode(for: status).rawValue)
        message.message = text
        var response = encode(message, status: status, format: format)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    static func failure(_ failure: some RequestFailure, format: IngestFormat) -> Response {
        status(failure.status, failure.clientMessage, format: format, retryAfter: failure.retryAfterSeconds)
    }

    static func encode(_ message: some SwiftProtobuf.Message, status: HTTPResponse.Status, format: IngestFormat) -> Response {
        let body: Data
        switch format {
        case .protobuf: body = (try? message.serializedData()) ?? Data()
        case .json: body = (try? message.jsonUTF8Data()) ?? Data("{}".utf8)
        }
        return Response(
            status: status, headers: [.contentType: format.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The gRPC status code for an HTTP status: what a `google.rpc.Status` body carries, and
    /// what OTLP/gRPC answers where OTLP/HTTP answers that status.
    static func grpcCode(for status: HTTPResponse.Status) -> RPCError.Code {
        switch status.code {
        case 400, 413, 415: .invalidArgument
        case 401: .unauthenticated
        case 429: .resourceExhausted
        case 503: .unavailable
        default: .internalError
        }
    }
}

/// Answers of the native JSON API.
enum NativeAnswer {
    struct Accepted: Encodable {
        var accepted: Int
        var rejected: Int
        var dropped: Int
        var errors: [String]
    }

    struct Failure: Encodable {
        var error: String
        var status: Int
    }

    static func success(_ outcome: IngestPipeline.Outcome) -> Response {
        json(
            Accepted(
                accepted: outcome.records.count, rejected: outcome.rejected,
                dropped: outcome.droppedBySampling + outcome.droppedByExclusion, errors: outcome.rejectionReasons),
            status: .ok)
    }

    static func error(_ status: HTTPResponse.Status, _ text: String, retryAfter: Int? = nil) -> Response {
        var response = json(Failure(error: text, status: status.code), status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    static func failure(_ failure: some RequestFailure) -> Response {
        error(failure.status, failure.clientMessage, retryAfter: failure.retryAfterSeconds)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

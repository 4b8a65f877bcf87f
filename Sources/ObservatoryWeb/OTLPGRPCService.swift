import Foundation
import GRPCCore
import GRPCProtobuf
import ObservatoryIngest
import ObservatoryOTLP
import SwiftProtobuf
import Tracing

/// OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`, the one method
/// OTLP trace exporters call on port 4317.
///
/// It does what `POST /v1/traces` does, through the same ``IngestController``: the bearer
/// token (from the `authorization` metadata), the protobuf decoder, the pipeline, and the
/// span writer's commit before the answer. The answers are HTTP's in gRPC status codes
/// (``GRPCAnswer``). Registered by hand on the router rather than through generated stubs:
/// one unary method needs no code generator, and the request stays raw bytes for the same
/// hand-written decoder HTTP uses.
struct OTLPGRPCService: RegistrableRPCService {
    static let method = MethodDescriptor(
        fullyQualifiedService: "opentelemetry.proto.collector.trace.v1.TraceService", method: "Export")

    let ingest: IngestController
    /// `OBSERVABILITY_ENABLED` and `OBSERVABILITY_TRACE_INGEST_REQUESTS`: each call gets a
    /// server span of its own, as an ingestion request over HTTP does.
    let tracesCalls: Bool

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.method, deserializer: RawMessageDeserializer(),
            serializer: ProtobufSerializer<Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse>()
        ) { request, _ in
            let response = await export(request)
            ingest.metrics.recordRequest(.otlpGRPC, status: GRPCAnswer.statusName(of: response))
            return StreamingServerResponse(single: response)
        }
    }

    func export(
        _ request: StreamingServerRequest<Data>
    ) async -> ServerResponse<Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse> {
        // Like HTTP's 401, a call without the token leaves no span.
        if let token = ingest.token,
            !token.authorizes(authorization: request.metadata[stringValues: "authorization"].first(where: { _ in true }))
        {
            return ServerResponse(error: RPCError(code: .unauthenticated, message: "missing or wrong bearer token"))
        }
        guard tracesCalls else {
            var suppressed = InstrumentationContext.current ?? .topLevel
            suppressed.tracingSuppressed = true
            return await InstrumentationContext.$current.withValue(suppressed) { await answer(request) }
        }
        return await withSpan(Self.method.fullyQualifiedMethod, ofKind: .server) { span in
            span.attributes["rpc.system"] = "grpc"
            span.attributes["rpc.service"] = Self.method.service.fullyQualifiedService
            span.attributes["rpc.method"] = Self.method.method
            let response = await answer(request)
            let code = GRPCAnswer.statusCode(of: response)
            span.attributes["rpc.grpc.status_code"] = code
            if code != 0 { span.setStatus(.init(code: .error)) }
            return response
        }
    }

    private func answer(
        _ request: StreamingServerRequest<Data>
    ) async -> ServerResponse<Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse> {
        let export: DecodedExport
        do {
            export = try OTLPProtobufDecoder.decode(try await Self.onlyMessage(of: request))
        } catch let error as RPCError {
            return ServerResponse(error: error)
        } catch {
            return ServerResponse(error: GRPCAnswer.error(requestFailure(error)))
        }
        switch await ingest.store(export) {
        case .committed(let outcome): return ServerResponse(message: GRPCAnswer.response(outcome))
        case .refused(let failure): return ServerResponse(error: GRPCAnswer.error(failure))
        }
    }

    /// The one request message of a unary call. GRPCCore's own conversion calls a stream
    /// of zero or two messages an internal error; it is the client's, so INVALID_ARGUMENT.
    static func onlyMessage(of request: StreamingServerRequest<Data>) async throws -> Data {
        var messages = request.messages.makeAsyncIterator()
        guard let message = try await messages.next() else {
            throw RPCError(code: .invalidArgument, message: "Export takes one request message; the stream had none")
        }
        guard try await messages.next() == nil else {
            throw RPCError(code: .invalidArgument, message: "Export takes one request message; the stream had more")
        }
        return message
    }
}

/// The request message as the bytes it arrived in (decompressed by the transport), for
/// ``OTLPProtobufDecoder``.
struct RawMessageDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Data {
        serializedMessageBytes.withUnsafeBytes { Data($0) }
    }
}

/// OTLP/gRPC answers: HTTP's outcomes in gRPC status codes. What HTTP answers 429 or 503
/// with `Retry-After` is RESOURCE_EXHAUSTED or UNAVAILABLE with the delay as a
/// `google.rpc.RetryInfo`, sent twice: inside the `google.rpc.Status` of
/// `grpc-status-details-bin` (the standard place, which Go's exporters and the Collector
/// read) and alone as `google.rpc.retryinfo-bin` (where the Python SDK's exporter looks).
enum GRPCAnswer {
    static let statusDetailsKey = "grpc-status-details-bin"
    static let retryInfoKey = "google.rpc.retryinfo-bin"

    static func response(
        _ outcome: IngestPipeline.Outcome
    ) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse {
        var message = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        if let rejection = outcome.rejectionMessage {
            message.partialSuccess.rejectedSpans = Int64(outcome.rejected)
            message.partialSuccess.errorMessage = rejection
        }
        return message
    }

    static func error(_ failure: some RequestFailure) -> RPCError {
        let code = OTLPAnswer.grpcCode(for: failure.status)
        var metadata = Metadata()
        if let seconds = failure.retryAfterSeconds {
            var delay = Google_Protobuf_Duration()
            delay.seconds = Int64(seconds)
            let retryInfo = retryInfoBytes(delay)
            var status = Google_Rpc_Status()
            status.code = Int32(code.rawValue)
            status.message = failure.clientMessage
            var detail = Google_Protobuf_Any()
            detail.typeURL = "type.googleapis.com/google.rpc.RetryInfo"
            detail.value = Data(retryInfo)
            status.details = [detail]
            if let bytes: [UInt8] = try? status.serializedBytes() { metadata.addBinary(bytes, forKey: statusDetailsKey) }
            metadata.addBinary(retryInfo, forKey: retryInfoKey)
        }
        return RPCError(code: code, message: failure.clientMessage, metadata: metadata)
    }

    /// The gRPC status code of an answer: 0 (OK) when it succeeded.
    static func statusCode(of response: ServerResponse<some Sendable>) -> Int {
        if case .failure(let error) = response.accepted { error.code.rawValue } else { 0 }
    }

    /// The status of an answer as `/metrics` labels it: `ok`, `unavailable`, `invalidArgument`...
    static func statusName(of response: ServerResponse<some Sendable>) -> String {
        if case .failure(let error) = response.accepted { String(describing: error.code) } else { "ok" }
    }

    /// `google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1; }` encoded: its one
    /// field, tag 1 with wire type 2 (0x0A), then the Duration's length and bytes.
    static func retryInfoBytes(_ delay: Google_Protobuf_Duration) -> [UInt8] {
        let duration: [UInt8] = (try? delay.serializedBytes()) ?? []
        return [0x0A, UInt8(duration.count)] + duration
    }
}

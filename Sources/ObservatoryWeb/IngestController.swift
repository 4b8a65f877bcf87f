import Foundation
import Hummingbird
import Logging
import ObservatoryIngest
import ObservatoryOTLP
import SwiftProtobuf

/// `POST /v1/traces` (OTLP/HTTP, protobuf or JSON) and `POST /api/v1/spans` (native JSON).
///
/// Both run the same steps: check the token, read the body within the size limit, decode,
/// run the ingest pipeline, and wait for the span writer to commit before answering. The
/// answers follow the OTLP/HTTP specification: 200 with partial success for invalid spans,
/// 400/401/413/415 with a `google.rpc.Status` body, 429/503 with `Retry-After`. 413 answers
/// a body over the size limit and an export whose rows would be over the expanded limit
/// (`IngestLimits`).
public struct IngestController: Sendable {
    /// The ingestion paths, also what self-tracing leaves out unless
    /// `OBSERVABILITY_TRACE_INGEST_REQUESTS` asks for them.
    static let otlpPath = "/v1/traces"
    static let nativePath = "/api/v1/spans"

    let pipeline: IngestPipeline
    let writer: SpanWriter
    let maxBodyBytes: Int
    let token: BearerToken?
    let metrics: IngestMetrics
    let logger: Logger

    public init(
        pipeline: IngestPipeline, writer: SpanWriter, maxBodyBytes: Int, ingestToken: String?,
        metrics: IngestMetrics = IngestMetrics(), logger: Logger
    ) {
        self.pipeline = pipeline
        self.writer = writer
        self.maxBodyBytes = maxBodyBytes
        self.token = ingestToken.map(BearerToken.init)
        self.metrics = metrics
        self.logger = logger
    }

    public func addRoutes(to router: Router<some RequestContext>) {
        router.post(RouterPath(Self.otlpPath)) { request, _ in
            let response = await otlp(request)
            metrics.recordRequest(.otlpHTTP, status: String(response.status.code))
            return response
        }
        router.post(RouterPath(Self.nativePath)) { request, _ in
            let response = await native(request)
            metrics.recordRequest(.native, status: String(response.status.code))
            return response
        }
    }

    // MARK: OTLP/HTTP

    func otlp(_ request: Request) async -> Response {
        let format = IngestFormat(contentType: request.headers[.contentType])
        let answerFormat = format ?? .protobuf
        if let token, !token.authorizes(request) {
            return OTLPAnswer.status(.unauthorized, "missing or wrong bearer token", format: answerFormat)
        }
        guard let format else {
            return OTLPAnswer.status(
                .unsupportedMediaType,
                "Content-Type must be application/x-protobuf or application/json, got \"\(request.headers[.contentType] ?? "none")\"",
                format: answerFormat)
        }
        let export: DecodedExport
        do {
            let body = try await IngestBody.read(request, limit: maxBodyBytes)
            export = format == .protobuf ? try OTLPProtobufDecoder.decode(body) : try OTLPJSONDecoder.decode(body)
        } catch {
            return OTLPAnswer.failure(error, format: format)
        }
        switch await store(export) {
        case .committed(let outcome): return OTLPAnswer.success(outcome, format: format)
        case .refused(let failure): return OTLPAnswer.failure(failure, format: format)
        }
    }

    // MARK: Native JSON

    func native(_ request: Request) async -> Response {
        if let token, !token.authorizes(request) {
            return NativeAnswer.error(.unauthorized, "missing or wrong bearer token")
        }
        guard IngestFormat(contentType: request.headers[.contentType]) == .json else {
            return NativeAnswer.error(
                .unsupportedMediaType, "Content-Type must be application/json, got \"\(request.headers[.contentType] ?? "none")\""
            )
        }
        let export: DecodedExport
        do {
            export = try NativeSpanDecoder.decode(try await IngestBody.read(request, limit: maxBodyBytes))
        } catch {
            return NativeAnswer.failure(error)
        }
        switch await store(export) {
        case .committed(let outcome): return NativeAnswer.success(outcome)
        case .refused(let failure): return NativeAnswer.failure(failure)
        }
    }

    // MARK: Every protocol

    /// What every ingestion protocol (OTLP/HTTP, the native API, OTLP/gRPC) does once a body
    /// is decoded: run the pipeline, refuse an export whose rows would be over the expanded
    /// limit, and wait until the span writer has committed the rest. Success means the
    /// spans are on disk; each protocol renders either result in its own format.
    func store(_ export: DecodedExport) async -> Stored {
        let outcome = pipeline.process(export)
        if let message = outcome.expandedLimitMessage { return .refused(ExpandedLimitExceeded(message: message)) }
        do {
            try await writer.submit(outcome.records)
        } catch {
            metrics.record(outcome, stored: false)
            return .refused(error)
        }
        metrics.record(outcome, stored: true)
        return .committed(outcome)
    }

    /// What ``store(_:)`` made of an export.
    enum Stored {
        /// The valid spans are committed; the outcome says which were rejected or dropped.
        case committed(IngestPipeline.Outcome)
        /// Nothing was stored, for this reason.
        case refused(any RequestFailure)
    }
}

/// An export whose rows would be over the expanded limit (`IngestLimits`). 413 is not among
/// OTLP's retryable statuses: the exporter drops the batch rather than send it again.
struct ExpandedLimitExceeded: RequestFailure {
    var message: String
    var status: HTTPResponse.Status { .contentTooLarge }
    var clientMessage: String { message }
}

/// A configured bearer token, compared in constant time so response timing does not
/// reveal how much of a guess was right.
struct BearerToken: Sendable {
    let expected: [UInt8]

    init(_ token: String) { expected = Array(token.utf8) }

    func authorizes(_ request: Request) -> Bool { authorizes(authorization: request.headers[.authorization]) }

    /// Whether an `Authorization` value (an HTTP header, or gRPC's `authorization`
    /// metadata) is `Bearer <token>`.
    func authorizes(authorization header: String?) -> Bool {
        guard let header, header.count > 7,
            header.prefix(7).lowercased() == "bearer "
        else { return false }
        return constantTimeEquals(Array(header.dropFirst(7).utf8), expected)
    }
}

/// Whether `given` equals `expected`, in time that depends only on `expected`'s length,
/// so response timing does not reveal how much of a guessed secret was right.
func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
    var difference = UInt8(given.count == expected.count ? 0 : 1)
    for index in 0..<expected.count {
        difference |= expected[index] ^ (index < given.count ? given[index] : 0)
    }
    return difference == 0
}

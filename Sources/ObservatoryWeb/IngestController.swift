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
        router.post(RouterPath(Self.otlpPath)) { request, _ in await otlp(request) }
        router.post(RouterPath(Self.nativePath)) { request, _ in await native(request) }
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
        let outcome: IngestPipeline.Outcome
        do {
            let body = try await IngestBody.read(request, limit: maxBodyBytes)
            let export = format == .protobuf ? try OTLPProtobufDecoder.decode(body) : try OTLPJSONDecoder.decode(body)
            outcome = pipeline.process(export)
        } catch {
            return OTLPAnswer.failure(error, format: format)
        }
        // 413 is not among OTLP's retryable statuses: the exporter drops the batch.
        if let message = outcome.expandedLimitMessage {
            return OTLPAnswer.status(.contentTooLarge, message, format: format)
        }
        do {
            try await writer.submit(outcome.records)
        } catch {
            metrics.record(outcome, stored: false)
            return OTLPAnswer.failure(error, format: format)
        }
        metrics.record(outcome, stored: true)
        return OTLPAnswer.success(outcome, format: format)
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
        let outcome: IngestPipeline.Outcome
        do {
            let body = try await IngestBody.read(request, limit: maxBodyBytes)
            outcome = pipeline.process(try NativeSpanDecoder.decode(body))
        } catch {
            return NativeAnswer.failure(error)
        }
        if let message = outcome.expandedLimitMessage {
            return NativeAnswer.error(.contentTooLarge, message)
        }
        do {
            try await writer.submit(outcome.records)
        } catch {
            metrics.record(outcome, stored: false)
            return NativeAnswer.failure(error)
        }
        metrics.record(outcome, stored: true)
        return NativeAnswer.success(outcome)
    }
}

/// A configured bearer token, compared in constant time so response timing does not
/// reveal how much of a guess was right.
struct BearerToken: Sendable {
    let expected: [UInt8]

    init(_ token: String) { expected = Array(token.utf8) }

    func authorizes(_ request: Request) -> Bool {
        guard let header = request.headers[.authorization], header.count > 7,
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

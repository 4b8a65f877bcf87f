import Foundation
import ObservatoryOTLP
import SwiftProtobuf

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Posts OTLP/HTTP protobuf exports to an ingestion endpoint, for `demo` and
/// `bench`. One attempt per call: retrying, pacing and concurrency are the
/// caller's business, so a benchmark measures exactly what it sends.
public struct OTLPSender: Sendable {
    /// The full URL, e.g. `http://localhost:8080/v1/traces`.
    public let endpoint: URL
    private let token: String?
    private let timeoutSeconds: Double
    private let session: URLSession

    /// - Parameters:
    ///   - endpoint: where to POST.
    ///   - token: sent as `Authorization: Bearer <token>` when given.
    ///   - timeoutSeconds: per-request timeout.
    ///   - session: the URL session to use; pass one with a larger
    ///     `httpMaximumConnectionsPerHost` for many concurrent sends.
    public init(endpoint: URL, token: String? = nil, timeoutSeconds: Double = 30, session: URLSession = .shared) {
        self.endpoint = endpoint
        self.token = token
        self.timeoutSeconds = timeoutSeconds
        self.session = session
    }

    /// Encodes and sends one export request.
    public func send(_ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest) async throws -> SendResult {
        try await send(body: request.serializedData(), contentType: "application/x-protobuf")
    }

    /// Sends an already encoded (and possibly compressed) body.
    /// - Parameter contentEncoding: e.g. `gzip` when `body` is compressed.
    public func send(body: Data, contentType: String, contentEncoding: String? = nil) async throws -> SendResult {
        var request = URLRequest(url: endpoint, timeoutInterval: timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        if let contentEncoding { request.setValue(contentEncoding, forHTTPHeaderField: "Content-Encoding") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await session.upload(for: request, from: body)
        guard let http = response as? HTTPURLResponse else {
            throw OTLPSendError.notHTTP(endpoint)
        }
        return SendResult(statusCode: http.statusCode, retryAfter: http.value(forHTTPHeaderField: "Retry-After"), body: data)
    }
}

/// A failure to get an HTTP answer at all; transport errors surface as `URLError`.
public enum OTLPSendError: Error, CustomStringConvertible, Sendable {
    case notHTTP(URL)

    public var description: String {
        switch self {
        case .notHTTP(let url): "\(url) did not answer with an HTTP response"
        }
    }
}

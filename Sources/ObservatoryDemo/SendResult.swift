import Foundation
import ObservatoryOTLP
import SwiftProtobuf

/// What the server answered to one export, without interpretation beyond the
/// OTLP/HTTP rules, so callers (`demo`, `bench`) decide on retries and reporting.
public struct SendResult: Sendable, Equatable {
    /// The HTTP status code.
    public var statusCode: Int
    /// Seconds from the `Retry-After` header (delta-seconds or HTTP-date), if any.
    public var retryAfterSeconds: Int?
    /// On 200, `partial_success.rejected_spans` of the decoded
    /// `ExportTraceServiceResponse` (0 when absent); nil otherwise or when the body
    /// is not a protobuf response.
    public var rejectedSpans: Int64?
    /// `partial_success.error_message` on 200, else the start of the response body.
    public var message: String?

    public init(statusCode: Int, retryAfterSeconds: Int? = nil, rejectedSpans: Int64? = nil, message: String? = nil) {
        self.statusCode = statusCode
        self.retryAfterSeconds = retryAfterSeconds
        self.rejectedSpans = rejectedSpans
        self.message = message
    }

    public var isSuccess: Bool { (200..<300).contains(statusCode) }

    /// The statuses OTLP/HTTP says a client may retry (with backoff, honouring `Retry-After`).
    public var isRetryable: Bool { [429, 502, 503, 504].contains(statusCode) }
}

extension SendResult {
    static let messageLimit = 300

    /// Reads a response; `now` resolves an HTTP-date `Retry-After`.
    init(statusCode: Int, retryAfter: String?, body: Data, now: Date = Date()) {
        self.init(statusCode: statusCode, retryAfterSeconds: retryAfter.flatMap { Self.retryAfterSeconds($0, now: now) })
        if statusCode == 200,
            let response = try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: body)
        {
            rejectedSpans = response.partialSuccess.rejectedSpans
            let text = response.partialSuccess.errorMessage
            message = text.isEmpty ? nil : text
        } else if !body.isEmpty {
            message = String(decoding: body.prefix(Self.messageLimit), as: UTF8.self)
        }
    }

    /// `Retry-After` is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
    static func retryAfterSeconds(_ header: String, now: Date) -> Int? {
        let value = header.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(value) { return max(seconds, 0) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(Int(date.timeIntervalSince(now).rounded(.up)), 0)
    }
}

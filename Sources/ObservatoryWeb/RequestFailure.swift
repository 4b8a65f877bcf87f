import Hummingbird
import ObservatoryIngest
import ObservatoryStore

/// How a failed request is answered, declared once per error type: its status, the text a
/// client may read, and when to retry. Each route group renders it in its own format (an
/// HTML page, the API's JSON, an OTLP `Status`); one that escapes every handler is answered
/// as the API's JSON by Hummingbird (`HTTPResponseError`).
public protocol RequestFailure: HTTPResponseError {
    /// What the client reads: never a database's own text, which can quote stored data.
    var clientMessage: String { get }
    /// `Retry-After`, when trying again later can succeed.
    var retryAfterSeconds: Int? { get }
    /// Whether the server log needs the whole error: true when the fault is ours or the
    /// database's rather than the request's.
    var isServerSide: Bool { get }
}

extension RequestFailure {
    public var retryAfterSeconds: Int? { nil }
    public var isServerSide: Bool { false }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        NativeAnswer.error(status, clientMessage, retryAfter: retryAfterSeconds)
    }
}

/// Any error as a ``RequestFailure``: one that is not declared as one is a bug, answered
/// with 500 and no detail.
func requestFailure(_ error: any Error) -> any RequestFailure {
    error as? any RequestFailure ?? UnexpectedFailure(underlying: error)
}

/// An error no type declared: a bug. The client learns nothing of it; the log does.
struct UnexpectedFailure: RequestFailure {
    var underlying: any Error
    var status: HTTPResponse.Status { .internalServerError }
    var clientMessage: String { "the answer could not be built; the server log has the details" }
    var isServerSide: Bool { true }
}

extension BadQuery: RequestFailure {
    var status: HTTPResponse.Status { .badRequest }
    var clientMessage: String { message }
}

extension DatabaseError: RequestFailure {
    /// 503 when trying again can help (the database is down, busy, or a statement hit the
    /// 10 s limit); 500 for what retrying cannot fix (a bug, a broken schema).
    public var status: HTTPResponse.Status {
        switch self {
        case .unavailable, .transient: .serviceUnavailable
        case .rejectedData, .duplicate, .unexpected: .internalServerError
        }
    }
    public var clientMessage: String { clientDescription }
    public var retryAfterSeconds: Int? { status == .serviceUnavailable ? 5 : nil }
    public var isServerSide: Bool { true }
}

extension IngestError: RequestFailure {
    public var status: HTTPResponse.Status {
        switch self {
        case .undecodable: .badRequest
        case .tooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        }
    }
    public var clientMessage: String { description }
}

extension SpanWriter.Rejection: RequestFailure {
    /// 429 and 503 are the statuses OTLP exporters retry; 400 and 500 they do not.
    public var status: HTTPResponse.Status {
        switch self {
        case .saturated: .tooManyRequests
        case .unavailable, .shuttingDown: .serviceUnavailable
        case .rejectedData: .badRequest
        case .failed: .internalServerError
        }
    }
    public var clientMessage: String { description }
    public var retryAfterSeconds: Int? {
        switch self {
        case .saturated(let seconds), .unavailable(let seconds): seconds
        case .shuttingDown: 1
        case .rejectedData, .failed: nil
        }
    }
    public var isServerSide: Bool { if case .failed = self { true } else { false } }
}

import HTTPTypes
import Hummingbird
import Logging
import ObservatoryStore

/// A request context that carries the read replica's status from ``ReadReplicaMiddleware``
/// to the pages, which show it in their header.
public protocol ReplicaStatusRequestContext: RequestContext {
    /// Set by ``ReadReplicaMiddleware`` when the reads go to a standby; nil otherwise.
    var replica: ReplicaStatus? { get set }
}

/// The dashboards and the read API when `OBSERVABILITY_READ_DATABASE_URL` is set: before a
/// route reads anything, asks the standby how far behind it is (within
/// ``ReplicaStore/answerWithin``). A standby that does not answer is a 503 with
/// `Retry-After`, in the group's own format (`answer`); otherwise the status goes to the
/// route in the context and to the client in ``HTTPField/Name/replicaLagSeconds``.
struct ReadReplicaMiddleware<Context: ReplicaStatusRequestContext>: RouterMiddleware {
    let store: ReplicaStore
    let logger: Logger
    /// The group's answer to a failure: the dashboards' HTML page, the API's JSON.
    let answer: @Sendable (any RequestFailure) -> Response

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let status: ReplicaStatus
        do {
            status = try await store.status()
        } catch {
            logger.warning("read replica unavailable", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return answer(ReadReplicaFailure(underlying: error))
        }
        var context = context
        context.replica = status
        var response = try await next(request, context)
        response.headers[.replicaLagSeconds] = ReplicaLag.headerValue(status)
        return response
    }
}

/// A database failure while reading from the standby: the status and `Retry-After` of any
/// ``DatabaseError``, with a message that says it is the read replica and that ingestion,
/// which writes to the primary, goes on.
struct ReadReplicaFailure: RequestFailure {
    var underlying: DatabaseError

    var status: HTTPResponse.Status { underlying.status }
    var clientMessage: String {
        switch underlying {
        case .unavailable: "the read replica is unavailable (ingestion is not affected)"
        default: "the read replica: \(underlying.clientDescription)"
        }
    }
    var retryAfterSeconds: Int? { underlying.retryAfterSeconds }
    var isServerSide: Bool { true }
}

/// Any error of a route, as a ``RequestFailure``: a database error is the standby's when
/// the reads go to one.
func requestFailure(_ error: any Error, readReplica: Bool) -> any RequestFailure {
    if readReplica, let database = error as? DatabaseError { return ReadReplicaFailure(underlying: database) }
    return requestFailure(error)
}

/// How the replica's lag reads: in the `Observatory-Replica-Lag-Seconds` header, and as the
/// line in the pages' header.
enum ReplicaLag {
    /// Past this many seconds of lag the line is marked as behind (yellow).
    static let behindAfterSeconds = 10.0

    /// Seconds with three decimals (`0.000` when caught up or not a standby), or `unknown`.
    static func headerValue(_ status: ReplicaStatus) -> String {
        guard let seconds = status.lagSeconds, seconds.isFinite else { return "unknown" }
        let milliseconds = Int64((min(max(seconds, 0), 1e12) * 1_000).rounded())
        let fraction = String(milliseconds % 1_000)
        return "\(milliseconds / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// The pages' line: where the figures come from and how fresh they are.
    static func line(_ status: ReplicaStatus?) -> ReplicaLine {
        guard let status else {
            return ReplicaLine(
                text: "Read replica unavailable", state: "unavailable",
                title: "The standby the dashboards read from does not answer; ingestion goes on on the primary.")
        }
        guard status.inRecovery else {
            return ReplicaLine(
                text: "Reads from a server that is not a standby", state: "primary",
                title: "The read database is not in recovery: a primary, or a standby that was promoted.")
        }
        let title = "The figures on this page come from a hot standby of the primary that stores the spans."
        guard let seconds = status.lagSeconds else {
            return ReplicaLine(
                text: "Read replica: lag unknown", state: "unknown",
                title: title + " It has replayed no transaction since it started, so its lag is not known.")
        }
        guard seconds > 0 else { return ReplicaLine(text: "Read replica: up to date", state: "current", title: title) }
        return ReplicaLine(
            text: "Read replica: \(Format.duration(seconds * 1_000)) behind",
            state: seconds >= behindAfterSeconds ? "behind" : "current", title: title)
    }
}

extension HTTPField.Name {
    /// How far the standby that answered the request trails the primary; see docs/api.md.
    static let replicaLagSeconds = Self("Observatory-Replica-Lag-Seconds")!
}

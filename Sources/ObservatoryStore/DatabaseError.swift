import PostgresNIO
import _ConnectionPoolModule

/// What went wrong talking to PostgreSQL, in the terms callers act on. Clients never see
/// a raw database error; they see the status code these cases map to.
public enum DatabaseError: Error, CustomStringConvertible, Sendable {
    /// The server cannot be reached or is shutting down: retry later (503).
    case unavailable(String)
    /// A transient conflict (deadlock, serialization failure): retry now.
    case transient(String)
    /// The server refused the data itself (a value out of range, a constraint).
    case rejectedData(sqlState: String, message: String)
    /// A unique index already holds one of the rows.
    case duplicate(String)
    /// Anything else: a bug or a broken schema.
    case unexpected(String)

    public var description: String {
        switch self {
        case .unavailable(let message): "database unavailable: \(message)"
        case .transient(let message): "transient database conflict: \(message)"
        case .rejectedData(let state, let message): "database rejected the data (\(state)): \(message)"
        case .duplicate(let message): "duplicate row: \(message)"
        case .unexpected(let message): "database error: \(message)"
        }
    }

    /// Classifies any error thrown by PostgresNIO (or a cancellation) by its SQLSTATE.
    /// What a client may be told: no server message text, which can quote stored data.
    public var clientDescription: String {
        switch self {
        case .unavailable: "the database is unavailable"
        case .transient: "a transient database conflict"
        case .rejectedData(let state, _): "the database refused a value (SQLSTATE \(state))"
        case .duplicate: "a duplicate row"
        case .unexpected: "an internal database error"
        }
    }

    /// Classifies any error thrown by PostgresNIO (or a cancellation) by PostgresNIO's
    /// typed codes: the server's SQLSTATE when the server answered, the client's
    /// `PSQLError.Code` when it did not.
    public init(_ error: any Error) {
        switch error {
        case let known as DatabaseError: self = known
        case let error as PSQLError: self.init(client: error)
        case let error as PostgresError:
            if case .connectionClosed = error {
                self = .unavailable("the connection closed")
            } else {
                self = .unexpected(String(describing: error))
            }
        case let error as ConnectionPoolError where error == .connectionCreationCircuitBreakerTripped:
            // The pool failed to connect for a minute and now fails every request at once
            // until a retry connects: the server is gone, not the request wrong.
            self = .unavailable("no connection could be made for a minute")
        case is CancellationError: self = .unavailable("the operation timed out")
        default: self = .unexpected(String(describing: error))
        }
    }

    /// A server's answer by its SQLSTATE; without one, by what the client saw. Connections
    /// that failed, closed or were shut down can succeed on a retry (unavailable); a message
    /// the client could not decode, a bad parameter count or an authentication setup the
    /// client cannot do will fail again the same way (unexpected).
    init(client error: PSQLError) {
        let code = error.code
        if code == .server, let state = error.serverInfo?[.sqlState] {
            self.init(server: PostgresError.Code(raw: state), message: error.serverInfo?[.message] ?? "")
        } else if [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown]
            .contains(code)
        {
            self = .unavailable(String(describing: code))
        } else if code == .queryCancelled {
            self = .unavailable("the statement was cancelled")
        } else {
            self = .unexpected(String(describing: code))
        }
    }

    /// The server's error: retry later when it is short of resources, shutting down or
    /// read-only; retry now after a conflict; the data's fault for the data-exception and
    /// integrity classes.
    init(server code: PostgresError.Code, message: String) {
        switch code {
        case .uniqueViolation: self = .duplicate(message)
        case .serializationFailure, .deadlockDetected, .lockNotAvailable: self = .transient(message)
        case .readOnlySqlTransaction: self = .unavailable(message)
        default:
            switch code.sqlStateClass {
            case .connectionException, .insufficientResources, .operatorIntervention: self = .unavailable(message)
            case .dataException, .integrityConstraintViolation: self = .rejectedData(sqlState: code.raw, message: message)
            default: self = .unexpected("\(code.raw): \(message)")
            }
        }
    }
}

extension PostgresError.Code {
    /// The class this code belongs to, as a code: the SQL standard's class is the first two
    /// characters, and the class's own code ends in `000` (`22012` is in `22000`,
    /// `dataException`).
    var sqlStateClass: PostgresError.Code {
        PostgresError.Code(raw: String(raw.prefix(2)) + "000")
    }
}

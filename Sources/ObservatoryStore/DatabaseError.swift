import PostgresNIO

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

    public init(_ error: any Error) {
        if let known = error as? DatabaseError {
            self = known
            return
        }
        if let error = error as? PostgresError, case .connectionClosed = error {
            self = .unavailable("the connection closed")
            return
        }
        guard let error = error as? PSQLError else {
            self = error is CancellationError ? .unavailable("the operation timed out") : .unexpected(String(describing: error))
            return
        }
        guard let state = error.serverInfo?[.sqlState] else {
            // No answer from a server: the connection failed, closed, or the pool is shutting down.
            self = .unavailable(String(describing: error.code))
            return
        }
        let message = error.serverInfo?[.message] ?? ""
        switch state {
        case "23505": self = .duplicate(message)
        case "40001", "40P01", "55P03": self = .transient(message)
        case _ where state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57") || state == "25006":
            self = .unavailable(message)
        case _ where state.hasPrefix("22") || state.hasPrefix("23"):
            self = .rejectedData(sqlState: state, message: message)
        default:
            self = .unexpected("\(state): \(message)")
        }
    }
}

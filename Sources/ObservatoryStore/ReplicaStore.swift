import Foundation
import Logging
import PostgresNIO

/// How far the read database (a hot standby, `OBSERVABILITY_READ_DATABASE_URL`) trails the
/// primary: what the dashboards and the read API tell their readers about the figures they
/// show.
public struct ReplicaStatus: Sendable, Equatable {
    /// The read database is in recovery, i.e. a standby; false when it is a primary (a
    /// promoted standby, or a URL that names a primary).
    public var inRecovery: Bool
    /// Seconds the standby's replay trails the primary: 0 when it has replayed all the WAL
    /// it received (an idle primary included) or is no standby; nil when it cannot tell (it
    /// has replayed no transaction since it started).
    public var lagSeconds: Double?

    public init(inRecovery: Bool, lagSeconds: Double?) {
        self.inRecovery = inRecovery
        self.lagSeconds = lagSeconds
    }
}

/// Asks the read database how far behind it is. Only SQL here: how the answer is shown is
/// the web layer's business.
public struct ReplicaStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    /// How long ``status()`` waits for an answer. Against a standby that is gone the pool
    /// keeps a query waiting while it retries connections (up to a minute); a page asks this
    /// first, so a missing standby costs a reader this long, not a minute.
    public static let answerWithin: Duration = .seconds(3)

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The read database's recovery state and replay lag. `now() - pg_last_xact_replay_timestamp()`
    /// alone grows while the primary is idle although the standby is current, so a standby
    /// that has replayed everything it received counts as caught up.
    public func status() async throws(DatabaseError) -> ReplicaStatus {
        let client = self.client
        let logger = self.logger
        do {
            return try await Deadline.run(
                within: Self.answerWithin,
                expired: DatabaseError.unavailable("the read replica did not answer within \(Self.answerWithin)")
            ) {
                let rows = try await client.tracedQuery(
                    """
                    SELECT pg_is_in_recovery(),
                           CASE WHEN NOT pg_is_in_recovery() THEN 0::float8
                                WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
                                ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::float8
                           END
                    """, logger: logger)
                guard let (inRecovery, lag) = try rows.decode((Bool, Double?).self).first else {
                    throw DatabaseError.unexpected("the replica status query returned no row")
                }
                return ReplicaStatus(inRecovery: inRecovery, lagSeconds: lag)
            }
        } catch {
            throw DatabaseError(error)
        }
    }
}

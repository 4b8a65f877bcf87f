import Foundation
import Logging
import PostgresNIO

/// Calls the maintenance functions of the schema (migrations/0008, 0010): the claim that
/// elects one replica per job and interval, the maintenance log, and retention.
public struct MaintenanceStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Whether this process should run `job` now: true for exactly one caller among all
    /// replicas once `every` has passed since the job last started anywhere. Not traced:
    /// every replica polls several times per interval, and those traces would bury the runs.
    public func claim(job: String, every: Duration, owner: String, now: Date? = nil) async throws(DatabaseError) -> Bool {
        let seconds = Double(every.components.seconds) + Double(every.components.attoseconds) / 1e18
        let query: PostgresQuery = """
            SELECT observability_internal.claim_maintenance_job(\(job), make_interval(secs => \(seconds)), \(owner),
                                                                coalesce(\(now)::timestamptz, now()))
            """
        do {
            for try await claimed in try await client.query(query, logger: logger).decode(Bool.self) { return claimed }
            return false
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Records a finished run of `job` in `maintenance_log`; returns the row's id. Both
    /// times come from this process's clock, so the duration is not skewed by the server's.
    @discardableResult
    public func logRun(
        job: String, owner: String, startedAt: Date, finishedAt: Date, details: String
    ) async throws(DatabaseError) -> Int {
        let query: PostgresQuery = """
            SELECT observability_internal.log_maintenance_run(\(job), \(owner), \(startedAt)::timestamptz, \(details)::jsonb,
                                                              \(finishedAt)::timestamptz)
            """
        do {
            return try await client.tracedQuery(query, logger: logger).first?.decode(Int.self) ?? 0
        } catch {
            throw DatabaseError(error)
        }
    }

    /// What one `enforce_retention()` call did.
    public struct Retention: Sendable, Equatable {
        public var partitionsDropped: Int
        public var spansDeleted: Int
        public var tracesDeleted: Int
        public var tracesRemaining: Int
        /// Resources no kept span can refer to any more (`forget_resources()`, 0018).
        public var resourcesDeleted: Int
        /// Scopes no kept span can refer to any more (`forget_scopes()`, 0020).
        public var scopesDeleted: Int
        /// Everything the run reports for its `maintenance_log` row, as a JSON object:
        /// the counts, and the cutoff and bounds it used.
        public var details: String
    }

    /// Drops what is older than `days` and caps the store at `maxTraces` traces of users
    /// and `maxSelfTraces` of the service's own (0011), then the resources (0018) and
    /// scopes (0020) no kept span can refer to; nil when
    /// another session was applying retention at that moment. Writes no log row: the
    /// caller logs the run with `logRun`, as for every job.
    public func applyRetention(
        days: Int, maxTraces: Int, maxSelfTraces: Int, now: Date? = nil
    ) async throws(DatabaseError) -> Retention? {
        let query: PostgresQuery = """
            SELECT r.partitions_dropped, r.spans_deleted, r.traces_deleted, r.traces_remaining, r.details::text,
                   observability_internal.forget_resources(\(days)::integer, coalesce(\(now)::timestamptz, now())),
                   observability_internal.forget_scopes(\(days)::integer, coalesce(\(now)::timestamptz, now()))
            FROM observability_internal.enforce_retention(\(days)::integer, \(maxTraces)::bigint,
                                                          coalesce(\(now)::timestamptz, now()), \(maxSelfTraces)::bigint) r
            """
        do {
            guard let row = try await client.tracedQuery(query, logger: logger).first else { return nil }
            let (dropped, spans, traces, remaining, details, resources, scopes) = try row.decode(
                (Int, Int, Int, Int, String, Int, Int).self)
            return Retention(
                partitionsDropped: dropped, spansDeleted: spans, tracesDeleted: traces, tracesRemaining: remaining,
                resourcesDeleted: resources, scopesDeleted: scopes, details: details)
        } catch {
            throw DatabaseError(error)
        }
    }
}

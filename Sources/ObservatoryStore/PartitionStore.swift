import Logging
import PostgresNIO

/// Calls the partition functions of the schema (migrations/0003).
public struct PartitionStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A partition `ensure_partitions` created, and how many spans it took over from `spans_default`.
    public struct Created: Sendable, Equatable {
        public var name: String
        public var rowsMoved: Int
    }

    /// Creates the daily partitions around today that are missing.
    @discardableResult
    public func ensurePartitions(daysBack: Int = 1, daysAhead: Int = 3) async throws(DatabaseError) -> [Created] {
        do {
            let rows = try await client.tracedQuery(
                "SELECT partition_name, rows_moved FROM observability.ensure_partitions(\(daysBack)::integer, \(daysAhead)::integer)",
                logger: logger)
            var created: [Created] = []
            for (name, moved) in try rows.decode((String, Int).self) {
                created.append(Created(name: name, rowsMoved: moved))
            }
            return created
        } catch {
            throw DatabaseError(error)
        }
    }
}

import Logging
import PostgresNIO

/// Calls the partition functions of the schema (migrations/0003, and 0018's compaction).
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

    /// What `compact_span_partition()` did to one day's partition.
    public struct Compacted: Sendable, Equatable {
        public var name: String
        public var spans: Int
        /// Heap, TOAST and indexes, before and after.
        public var bytesBefore: Int
        public var bytesAfter: Int
    }

    /// The closed days not yet compacted, newest first (`span_partitions_to_compact()`).
    public func partitionsToCompact() async throws(DatabaseError) -> [String] {
        do {
            let rows = try await client.tracedQuery(
                "SELECT partition_name FROM observability.span_partitions_to_compact()", logger: logger)
            return try rows.map { row in try row.decode(String.self) }
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Rewrites one day's partition compactly; nil when it could not run now (retention
    /// was running, or the swap's lock was not granted), and nothing changed.
    public func compact(_ partition: String) async throws(DatabaseError) -> Compacted? {
        do {
            let rows = try await client.tracedQuery(
                """
                SELECT partition_name, span_count, bytes_before, bytes_after
                FROM observability.compact_span_partition(\(partition))
                """,
                logger: logger)
            guard let row = rows.first else { return nil }
            let (name, spans, before, after) = try row.decode((String, Int, Int, Int).self)
            return Compacted(name: name, spans: spans, bytesBefore: before, bytesAfter: after)
        } catch {
            throw DatabaseError(error)
        }
    }
}

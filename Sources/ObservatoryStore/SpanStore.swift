import Logging
import NIOCore
import PostgresNIO

/// Writes batches of spans. The fast path is a single `COPY` into `observability.spans`:
/// one round trip, one transaction, and the statement trigger folds the batch into
/// `observability.traces` inside it. A batch that repeats spans already stored (a client
/// retrying an export whose answer it never got) makes COPY fail on the unique index;
/// it is then written again through a staging table with `ON CONFLICT DO NOTHING`, so
/// retries are idempotent and nothing else in the batch is lost.
public struct SpanStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    /// `client` must come from ``PostgresClient/Configuration/observatory(url:maximumConnections:applicationName:)``.
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// How a batch got in.
    public enum Path: Sendable, Equatable {
        /// All rows by COPY.
        case copy
        /// Some rows were already stored; the rest went in through the staging table.
        case deduplicated(inserted: Int)
    }

    /// Commits `records` or throws a ``DatabaseError``; on return they are durable.
    @discardableResult
    public func write(_ records: [SpanRecord]) async throws(DatabaseError) -> Path {
        guard !records.isEmpty else { return .copy }
        do {
            try await client.withConnection { connection in
                try await copy(records, into: "spans", on: connection)
            }
            return .copy
        } catch {
            let failure = DatabaseError(error)
            guard case .duplicate = failure else { throw failure }
        }
        do {
            return try await client.withConnection { connection in
                try await connection.query(
                    "CREATE TEMP TABLE IF NOT EXISTS spans_incoming (LIKE observability.spans)", logger: logger)
                try await connection.query("TRUNCATE spans_incoming", logger: logger)
                try await copy(records, into: "spans_incoming", on: connection)
                let columns = SpanCopyEncoder.columns.joined(separator: ", ")
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: """
                        WITH inserted AS (
                            INSERT INTO observability.spans (\(columns))
                            SELECT \(columns) FROM spans_incoming
                            ON CONFLICT DO NOTHING
                            RETURNING 1
                        )
                        SELECT count(*)::bigint FROM inserted
                        """),
                    logger: logger)
                var inserted = 0
                for try await count in rows.decode(Int.self) { inserted = count }
                return .deduplicated(inserted: inserted)
            }
        } catch {
            throw DatabaseError(error)
        }
    }

    private func copy(_ records: [SpanRecord], into table: String, on connection: PostgresConnection) async throws {
        try await connection.copyFrom(table: table, columns: SpanCopyEncoder.columns, logger: logger) { writer in
            var buffer = ByteBufferAllocator().buffer(capacity: 256 * 1024)
            for record in records {
                SpanCopyEncoder.encode(record, into: &buffer)
                if buffer.readableBytes >= 256 * 1024 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 {
                try await writer.write(buffer)
            }
        }
    }
}

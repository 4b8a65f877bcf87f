import Logging
import PostgresNIO

/// Writes batches of spans through `observability_internal.ingest_spans()` (migrations/0005): the
/// batch goes as parallel arrays, one round trip, one transaction that also folds the
/// spans into `observability.traces`. Spans already stored are skipped, so a client's
/// retry of an export that was in fact committed is harmless.
public struct SpanStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Commits `records` or throws a ``DatabaseError``; on return they are durable. Returns
    /// how many were new (the rest were already stored).
    @discardableResult
    public func write(_ records: [SpanRecord]) async throws(DatabaseError) -> Int {
        guard !records.isEmpty else { return 0 }
        let columns = SpanColumns(records)
        do {
            return try await client.withConnection { connection in
                let rows = try await connection.query(
                    """
                    SELECT observability_internal.ingest_spans(\(columns.traceIDs), \(columns.spanIDs), \(columns.parentSpanIDs), \
                    \(columns.names), \(columns.kinds), \(columns.operations), \(columns.targets), \(columns.services), \
                    \(columns.scopes), \(columns.startTimes), \(columns.endTimes), \(columns.durations), \(columns.statuses), \
                    \(columns.statusMessages), \(columns.attributes), \(columns.resourceAttributes), \(columns.events))
                    """,
                    logger: logger)
                for try await inserted in rows.decode(Int.self) { return inserted }
                return 0
            }
        } catch {
            throw DatabaseError(error)
        }
    }
}

/// A batch of records turned into one array per column, with `""` and `0` standing for
/// NULL (PostgresNIO binds no NULL array elements; the SQL function maps them back).
struct SpanColumns {
    var traceIDs: [TraceID] = []
    var spanIDs: [Int64] = []
    var parentSpanIDs: [Int64] = []
    var names: [String] = []
    var kinds: [String] = []
    var operations: [String] = []
    var targets: [String] = []
    var services: [String] = []
    var scopes: [String] = []
    var startTimes: [PostgresTimestamp] = []
    var endTimes: [PostgresTimestamp] = []
    var durations: [Double] = []
    var statuses: [String] = []
    var statusMessages: [String] = []
    var attributes: [String] = []
    var resourceAttributes: [String] = []
    var events: [String] = []

    init(_ records: [SpanRecord]) {
        let count = records.count
        traceIDs.reserveCapacity(count)
        spanIDs.reserveCapacity(count)
        parentSpanIDs.reserveCapacity(count)
        names.reserveCapacity(count)
        kinds.reserveCapacity(count)
        operations.reserveCapacity(count)
        targets.reserveCapacity(count)
        services.reserveCapacity(count)
        scopes.reserveCapacity(count)
        startTimes.reserveCapacity(count)
        endTimes.reserveCapacity(count)
        durations.reserveCapacity(count)
        statuses.reserveCapacity(count)
        statusMessages.reserveCapacity(count)
        attributes.reserveCapacity(count)
        resourceAttributes.reserveCapacity(count)
        events.reserveCapacity(count)
        for record in records {
            traceIDs.append(record.traceID)
            spanIDs.append(record.spanID.storedValue)
            parentSpanIDs.append(record.parentSpanID?.storedValue ?? 0)
            names.append(record.name)
            kinds.append(record.kind.rawValue)
            operations.append(record.operation.rawValue)
            targets.append(record.target ?? "")
            services.append(record.serviceName)
            scopes.append(record.scopeName ?? "")
            startTimes.append(PostgresTimestamp(unixNano: record.startTimeUnixNano))
            endTimes.append(PostgresTimestamp(unixNano: record.endTimeUnixNano))
            durations.append(record.durationMilliseconds)
            statuses.append(record.status.rawValue)
            statusMessages.append(record.statusMessage ?? "")
            attributes.append(record.attributesJSON)
            resourceAttributes.append(record.resourceAttributesJSON)
            events.append(record.eventsJSON)
        }
    }
}

import Foundation
import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO
import XCTest

/// Migration 0018: a span's resource stored once in `observability.resources`, stores
/// written before it upgraded without a span changing, and closed days rewritten by
/// `compact_span_partition()`.
final class ResourceStorageTests: XCTestCase {
    static let gatewayResource = #"{"service.name":"gateway","host.name":"h1","telemetry.sdk.language":"python"}"#
    /// The same resource with its keys in another order: one row, not two.
    static let gatewayReordered = #"{"telemetry.sdk.language":"python","host.name":"h1","service.name":"gateway"}"#
    static let toolsResource = #"{"service.name":"tools","host.name":"h2"}"#
    static let lateResource = #"{"service.name":"late","host.name":"h3"}"#

    func testABatchStoresEachDistinctResourceOnce() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let trace = TraceID(high: 1, low: 1)
            let resources = [Self.gatewayResource, Self.gatewayResource, Self.gatewayReordered, Self.toolsResource]
            let batch = resources.enumerated().map { index, resource in
                Self.record(trace: trace, span: UInt64(index + 1), resource: resource)
            }
            let written = try await store.write(batch)
            XCTAssertEqual(written, 4)
            let stored = try await client.scalar("SELECT count(*) FROM observability.resources")
            XCTAssertEqual(stored, 2)
            let inline = try await Self.spansHoldingTheirResource(client)
            XCTAssertEqual(inline, 0)
            // Every span reads back its own resource, through the view and the function.
            for (index, resource) in resources.enumerated() {
                let matches = try await client.scalar(
                    """
                    SELECT count(*) FROM observability.span_list l JOIN observability.spans s
                        ON s.span_id = \(index + 1) AND l.span_id = observability.hex_span_id(s.span_id)
                    WHERE l.resource_attributes = '\(resource)'::jsonb
                      AND observability.span_resource(s.resource_attributes, s.resource_id) = '\(resource)'::jsonb
                    """)
                XCTAssertEqual(matches, 1, "span \(index + 1)")
            }
            // A later batch reuses what is stored and spends no id on it.
            _ = try await store.write([
                Self.record(trace: trace, span: 5, resource: Self.toolsResource),
                Self.record(trace: trace, span: 6, resource: Self.lateResource),
            ])
            let ids = try await client.strings("SELECT resource_id::text FROM observability.resources ORDER BY 1")
            XCTAssertEqual(ids, ["1", "2", "3"])
        }
    }

    func testARowWrittenByHandHasTheEmptyResourceAndARowWithNoneIsRefused() async throws {
        try await TestDatabase.with { _, client in
            let insert = """
                INSERT INTO observability.spans (trace_id, span_id, name, kind, operation, service_name, start_time,
                                                 end_time, duration_ms, status%@)
                VALUES ('0af7651916cd43dd8448eb211c80319c', %@, 'by hand', 'server', 'internal', 'svc', now(), now(), 0,
                        'ok'%@)
                """
            _ = try await client.query(PostgresQuery(unsafeSQL: String(format: insert, "", "1", "")))
            let resource = try await client.strings(
                "SELECT resource_attributes::text FROM observability.span_list WHERE span_id = '0000000000000001'")
            XCTAssertEqual(resource, ["{}"])
            do {
                _ = try await client.query(
                    PostgresQuery(unsafeSQL: String(format: insert, ", resource_attributes", "2", ", NULL")))
                XCTFail("a span with neither its resource's attributes nor its id was stored")
            } catch {
                XCTAssertTrue(String(reflecting: error).contains("spans_resource_check"), "\(String(reflecting: error))")
            }
        }
    }

    func testConcurrentBatchesWithTheSameNewResourcesStoreThemOnce() async throws {
        try await TestDatabase.with(connections: 8) { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let resources = [Self.gatewayResource, Self.toolsResource, Self.lateResource]
            // Each writer sends the three resources in its own order.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        let batch = (0..<30).map { index in
                            Self.record(
                                trace: TraceID(high: 2, low: UInt64(writer)), span: UInt64(index + 1),
                                resource: resources[(index + writer) % 3])
                        }
                        return try await store.write(batch)
                    }
                }
                var written = 0
                for try await count in group { written += count }
                XCTAssertEqual(written, 240)
            }
            let stored = try await client.scalar("SELECT count(*) FROM observability.resources")
            XCTAssertEqual(stored, 3)
            let inline = try await Self.spansHoldingTheirResource(client)
            XCTAssertEqual(inline, 0)
        }
    }

    func testRetentionForgetsResourcesNoKeptSpanCanReferTo() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            _ = try await store.write([
                Self.record(trace: TraceID(high: 3, low: 1), span: 1, resource: Self.gatewayResource),
                Self.record(trace: TraceID(high: 3, low: 1), span: 2, resource: Self.toolsResource),
            ])
            // A batch moves last_seen on once it is more than an hour old, not sooner.
            _ = try await client.query(
                """
                UPDATE observability.resources SET last_seen = now() - interval '2 hours'
                WHERE attributes = \(Self.gatewayResource)::jsonb
                """)
            _ = try await client.query(
                """
                UPDATE observability.resources SET last_seen = now() - interval '30 minutes'
                WHERE attributes = \(Self.toolsResource)::jsonb
                """)
            _ = try await store.write([
                Self.record(trace: TraceID(high: 3, low: 2), span: 1, resource: Self.gatewayResource),
                Self.record(trace: TraceID(high: 3, low: 2), span: 2, resource: Self.toolsResource),
            ])
            let ages = try await client.strings(
                """
                SELECT (now() - last_seen < interval '1 minute')::text FROM observability.resources
                ORDER BY attributes ->> 'service.name'
                """)
            XCTAssertEqual(ages, ["true", "false"])  // gateway moved on, tools not yet

            // Last seen 7 days, 2 hours and a minute ago: older than any span a 7-day
            // retention keeps can be (the cutoff, the hour of future skew, the hour of lag).
            _ = try await client.query(
                """
                UPDATE observability.resources SET last_seen = now() - interval '7 days 2 hours 1 minute'
                WHERE attributes = \(Self.toolsResource)::jsonb
                """)
            let maintenance = MaintenanceStore(client: client, logger: TestDatabase.logger)
            let done = try await maintenance.applyRetention(days: 7, maxTraces: 1_000, maxSelfTraces: 1_000)
            XCTAssertEqual(done?.resourcesDeleted, 1)
            let left = try await client.strings("SELECT attributes ->> 'service.name' FROM observability.resources")
            XCTAssertEqual(left, ["gateway"])
            // One minute younger, it would have been kept.
            _ = try await client.query(
                """
                UPDATE observability.resources SET last_seen = now() - interval '7 days 1 hour 59 minutes'
                """)
            let again = try await maintenance.applyRetention(days: 7, maxTraces: 1_000, maxSelfTraces: 1_000)
            XCTAssertEqual(again?.resourcesDeleted, 0)
        }
    }

    func testAStoreWrittenBefore0018UpgradesAndCompactsWithoutChangingASpan() async throws {
        try await TestDatabase.with(migrated: false) { _, client in
            let migrations = try TestDatabase.migrations()
            let before0018 = Array(migrations.prefix { $0.version < 18 })
            XCTAssertEqual(before0018.count, 17)
            try await MigrationRunner(client: client, migrations: before0018, logger: TestDatabase.logger).migrate()
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            try await partitions.ensurePartitions(daysBack: 3)
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let now = SpanFixtures.nowUnixNano()
            let twoDaysAgo = now - 2 * 86_400 * 1_000_000_000
            let old = Self.traffic(traces: 600, base: twoDaysAgo, firstTrace: 1)
            let recent = Self.traffic(traces: 10, base: now - 60_000_000_000, firstTrace: 1_000)
            _ = try await store.write(old)
            _ = try await store.write(recent)
            let spansQuery = "SELECT row_to_json(l)::text FROM observability.span_list l ORDER BY trace_id, span_id"
            let exportQuery = "SELECT observability.trace_otlp(trace_id)::text FROM observability.traces ORDER BY trace_id"
            let spans = try await client.strings(spansQuery)
            let exports = try await client.strings(exportQuery)
            XCTAssertEqual(spans.count, old.count + recent.count)

            try await MigrationRunner(client: client, migrations: migrations, logger: TestDatabase.logger).migrate()
            let upgraded = try await client.strings(spansQuery)
            XCTAssertEqual(upgraded, spans)
            let upgradedExports = try await client.strings(exportQuery)
            XCTAssertEqual(upgradedExports, exports)
            // Traces whose spans ran on host h2, known from the input, found through rows
            // still holding their resource inline.
            let onH2 = Set((old + recent).filter { $0.resourceAttributesJSON == Self.toolsResource }.map(\.traceID.hex))
            let traces = TraceStore(client: client, logger: TestDatabase.logger)
            let search = TraceFilter(
                since: Date(timeIntervalSinceNow: -3 * 86_400),
                attributes: [AttributeCondition(scope: .resource, key: "host.name", comparison: .equals("h2"))], limit: 500)
            let foundInline = Set(try await traces.list(search).map(\.traceID))
            XCTAssertEqual(foundInline, onH2)
            XCTAssertFalse(onH2.isEmpty)

            // Today's partition is still being written; the closed days are waiting.
            let oldDay = Self.partitionName(unixNano: twoDaysAgo)
            let waiting = try await partitions.partitionsToCompact()
            XCTAssertTrue(waiting.contains(oldDay), "\(waiting)")
            XCTAssertFalse(waiting.contains(Self.partitionName(unixNano: now)), "\(waiting)")
            for name in waiting {
                let compacted = try await partitions.compact(name)
                XCTAssertEqual(compacted?.name, name)
                if name == oldDay {
                    XCTAssertEqual(compacted?.spans, old.count)
                    XCTAssertLessThan(compacted?.bytesAfter ?? .max, compacted?.bytesBefore ?? 0)
                }
            }
            let stillWaiting = try await partitions.partitionsToCompact()
            XCTAssertEqual(stillWaiting, [])

            let compacted = try await client.strings(spansQuery)
            XCTAssertEqual(compacted, spans)
            let compactedExports = try await client.strings(exportQuery)
            XCTAssertEqual(compactedExports, exports)
            let foundCompacted = Set(try await traces.list(search).map(\.traceID))
            XCTAssertEqual(foundCompacted, onH2)
            let inlineLeft = try await Self.spansHoldingTheirResource(client, in: oldDay)
            XCTAssertEqual(inlineLeft, 0)
            let resources = try await client.scalar("SELECT count(*) FROM observability.resources")
            XCTAssertEqual(resources, 2)  // the gateway's, written in two key orders, and the tools'
            // The rewritten day has every index of the parent, attached to it.
            let attached = try await client.scalar(
                """
                SELECT count(*) FROM pg_inherits i
                JOIN pg_index x ON x.indexrelid = i.inhrelid
                WHERE x.indrelid = 'observability.\(oldDay)'::regclass
                  AND i.inhparent IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'observability.spans'::regclass)
                """)
            let parentIndexes = try await client.scalar(
                "SELECT count(*) FROM pg_index WHERE indrelid = 'observability.spans'::regclass")
            XCTAssertEqual(attached, parentIndexes)
            // A retried export of the old day is still recognised and stored once.
            let again = try await store.write(old)
            XCTAssertEqual(again, 0)
            let total = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(total, old.count + recent.count)
        }
    }

    func testCompactionStandsAsideForRetentionAndRefusesOtherTables() async throws {
        try await TestDatabase.with { _, client in
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            let yesterday = Self.partitionName(unixNano: SpanFixtures.nowUnixNano() - 86_400 * 1_000_000_000)
            try await client.withConnection { connection in
                _ = try await connection.query(
                    "SELECT pg_advisory_lock(hashtext('observability.apply_retention'))", logger: TestDatabase.logger)
                let busy = try await partitions.compact(yesterday)
                XCTAssertNil(busy)
                _ = try await connection.query(
                    "SELECT pg_advisory_unlock(hashtext('observability.apply_retention'))", logger: TestDatabase.logger)
            }
            let done = try await partitions.compact(yesterday)
            XCTAssertEqual(done?.name, yesterday)
            for name in ["spans_default", "traces", "spans_p2026"] {
                do {
                    _ = try await partitions.compact(name)
                    XCTFail("\(name) was compacted")
                } catch {
                    // invalid_parameter_value, raised by the function's own check.
                    XCTAssertTrue(String(describing: error).contains("22023"), "\(error)")
                }
            }
        }
    }

    func testSpansWrittenForADayWhileItIsCompactedAreAllKept() async throws {
        try await TestDatabase.with(connections: 6) { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            let yesterday = SpanFixtures.nowUnixNano() - 86_400 * 1_000_000_000
            let day = Self.partitionName(unixNano: yesterday)
            let stored = Self.traffic(traces: 20_000, base: yesterday, firstTrace: 1)
            _ = try await store.write(stored)
            // Late spans for the same day, batch after batch, from before the rewrite
            // starts until after it ends; a batch refused by a deadlock with the swap is
            // sent again, as the span writer does.
            let progress = WriteProgress()
            let (compacted, late) = try await withThrowingTaskGroup(of: (Bool, Int).self) { group in
                group.addTask {
                    var written = 0
                    var batch: UInt64 = 0
                    while await !progress.compactionEnded || batch < 10 {
                        let spans = Self.traffic(traces: 5, base: yesterday + 1_000_000, firstTrace: 100_000 + batch * 5)
                        var attempt = 0
                        while true {
                            do {
                                written += try await store.write(spans)
                                break
                            } catch {
                                guard case DatabaseError.transient = error, attempt < 4 else { throw error }
                                attempt += 1
                                await progress.retried()
                            }
                        }
                        batch += 1
                        await progress.wrote()
                    }
                    return (false, written)
                }
                group.addTask {
                    while await progress.batches < 3 { await Task.yield() }
                    await progress.startCompaction()
                    var compacted = false
                    for _ in 0..<20 where !compacted {
                        compacted = try await partitions.compact(day) != nil
                    }
                    await progress.endCompaction()
                    return (compacted, 0)
                }
                var compacted = false
                var late = 0
                for try await (done, written) in group {
                    compacted = compacted || done
                    late += written
                }
                return (compacted, late)
            }
            XCTAssertTrue(compacted)
            let batchesDuring = await progress.batchesDuringCompaction
            XCTAssertGreaterThan(batchesDuring, 0, "no batch was written while the day was rewritten")
            let expected = stored.count + late
            let spans = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(spans, expected)
            let distinct = try await client.scalar(
                "SELECT count(*) FROM (SELECT DISTINCT trace_id, span_id FROM observability.spans) s")
            XCTAssertEqual(distinct, expected)
            let inline = try await Self.spansHoldingTheirResource(client)
            XCTAssertEqual(inline, 0)
            let waiting = try await partitions.partitionsToCompact()
            XCTAssertFalse(waiting.contains(day))
        }
    }

    /// What the late writer of the test above has done, and whether the rewrite is over.
    actor WriteProgress {
        var batches = 0
        var retries = 0
        var compactionStartedAt: Int?
        var batchesDuringCompaction = 0
        var compactionEnded = false

        func wrote() {
            batches += 1
            if compactionStartedAt != nil && !compactionEnded { batchesDuringCompaction += 1 }
        }
        func retried() { retries += 1 }
        func startCompaction() { compactionStartedAt = batches }
        func endCompaction() { compactionEnded = true }
    }

    /// Traces of a gateway span and a tool span each; every third trace's tool span runs
    /// on host h2, the others on the gateway's process.
    static func traffic(traces: Int, base: UInt64, firstTrace: UInt64) -> [SpanRecord] {
        (0..<UInt64(traces)).flatMap { index -> [SpanRecord] in
            let trace = TraceID(high: 7, low: firstTrace + index)
            let start = base + index * 1_000_000
            var root = record(trace: trace, span: 1, resource: index % 2 == 0 ? gatewayResource : gatewayReordered, base: start)
            root.attributesJSON = #"{"http.route":"/mcp","n":\#(index)}"#
            var tool = record(trace: trace, span: 2, resource: index % 3 == 0 ? toolsResource : gatewayResource, base: start)
            tool.parentSpanID = SpanID(1)
            tool.eventsJSON = #"[{"name":"log","time":"2026-12-01T00:00:00Z","attributes":{"i":\#(index)}}]"#
            return [root, tool]
        }
    }

    static func record(trace: TraceID, span: UInt64, resource: String, base: UInt64 = SpanFixtures.nowUnixNano())
        -> SpanRecord
    {
        var record = SpanFixtures.record(trace: trace, span: span, base: base)
        record.resourceAttributesJSON = resource
        return record
    }

    /// Spans of `table` (`spans` or one of its partitions) that hold their resource inline
    /// or have no resource id: none once ingestion or compaction has stored it.
    static func spansHoldingTheirResource(_ client: PostgresClient, in table: String = "spans") async throws -> Int {
        try await client.scalar(
            "SELECT count(*) FROM observability.\(table) WHERE resource_attributes IS NOT NULL OR resource_id IS NULL")
    }

    /// The daily partition a time falls in (UTC).
    static func partitionName(unixNano: UInt64) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd"
        return "spans_p" + formatter.string(from: Date(timeIntervalSince1970: Double(unixNano) / 1e9))
    }
}

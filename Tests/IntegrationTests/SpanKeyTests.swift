import Foundation
import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO
import XCTest

/// Migration 0019: the unique `(trace_id, span_id, start_time)` index only on the days
/// still being written, `(trace_id)` on the days `compact_span_partition()` has rewritten,
/// and a span sent again for a rewritten day still stored once.
final class SpanKeyTests: XCTestCase {
    func testEachPartitionHasTheIndexOfItsState() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            let now = SpanFixtures.nowUnixNano()
            let yesterday = ResourceStorageTests.partitionName(unixNano: now - Self.day)
            let today = ResourceStorageTests.partitionName(unixNano: now)
            _ = try await store.write(ResourceStorageTests.traffic(traces: 50, base: now - Self.day, firstTrace: 1))
            // A span ten days old has no partition yet: it waits in spans_default, and the
            // partition made for it later gets its unique index before the span moves in.
            let tenDaysAgo = now - 10 * Self.day
            _ = try await store.write(ResourceStorageTests.traffic(traces: 1, base: tenDaysAgo, firstTrace: 900))
            try await partitions.ensurePartitions(daysBack: 1)
            let moved = ResourceStorageTests.partitionName(unixNano: tenDaysAgo)
            let movedSpans = try await client.scalar("SELECT count(*) FROM observability.\(moved)")
            XCTAssertEqual(movedSpans, 2)
            let rewritten = try await partitions.compact(yesterday)?.name
            XCTAssertEqual(rewritten, yesterday)

            let closedIndexes = try await Self.indexes(client, on: yesterday)
            XCTAssertEqual(closedIndexes, ["trace_id"])
            for name in [today, moved, "spans_default"] {
                let openIndexes = try await Self.indexes(client, on: name)
                XCTAssertEqual(openIndexes, ["UNIQUE trace_id, span_id, start_time"], name)
            }
            // The parent has no unique index left; its other indexes are on every partition.
            let parentUnique = try await client.scalar(
                "SELECT count(*) FROM pg_index WHERE indrelid = 'observability.spans'::regclass AND indisunique")
            XCTAssertEqual(parentUnique, 0)
            let compactedBefore = try await client.strings(
                "SELECT (observability_internal.compacted_before() AT TIME ZONE 'UTC')::date::text")
            XCTAssertEqual(compactedBefore, [Self.dayAfter(yesterday)])
        }
    }

    func testASpanSentAgainForARewrittenDayIsStoredOnce() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            let now = SpanFixtures.nowUnixNano()
            let yesterday = ResourceStorageTests.partitionName(unixNano: now - Self.day)
            let stored = ResourceStorageTests.traffic(traces: 200, base: now - Self.day, firstTrace: 1)
            let first = try await store.write(stored)
            XCTAssertEqual(first, stored.count)
            let rewritten = try await partitions.compact(yesterday)?.name
            XCTAssertEqual(rewritten, yesterday)

            // The whole export again, then a batch holding one new span twice and one
            // stored span twice, mixed with spans of today.
            let resent = try await store.write(stored)
            XCTAssertEqual(resent, 0)
            let late = ResourceStorageTests.traffic(traces: 1, base: now - Self.day, firstTrace: 5_000)
            let fresh = ResourceStorageTests.traffic(traces: 2, base: now, firstTrace: 6_000)
            let mixed = late + late + [stored[7], stored[7]] + fresh + fresh
            let mixedStored = try await store.write(mixed)
            XCTAssertEqual(mixedStored, late.count + fresh.count)
            let total = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(total, stored.count + late.count + fresh.count)
            let distinct = try await client.scalar(
                "SELECT count(*) FROM (SELECT DISTINCT trace_id, span_id, start_time FROM observability.spans) s")
            XCTAssertEqual(distinct, total)
            // The traces row counts each span once.
            let counted = try await client.scalar("SELECT sum(span_count)::bigint FROM observability.traces")
            XCTAssertEqual(counted, total)
        }
    }

    func testTwoBatchesSendingTheSameLateSpanAtOnceStoreItOnce() async throws {
        try await TestDatabase.with(connections: 4) { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            let now = SpanFixtures.nowUnixNano()
            let yesterday = ResourceStorageTests.partitionName(unixNano: now - Self.day)
            _ = try await store.write(ResourceStorageTests.traffic(traces: 10, base: now - Self.day, firstTrace: 1))
            let rewritten = try await partitions.compact(yesterday)?.name
            XCTAssertEqual(rewritten, yesterday)

            // The first batch stores the span and stays open; the second, sent meanwhile,
            // must wait for it, then find the span stored.
            try await client.withConnection { first in
                _ = try await first.query("BEGIN", logger: TestDatabase.logger)
                let stored = try await first.query(Self.lateSpanCall, logger: TestDatabase.logger)
                for try await count in stored.decode(Int.self) { XCTAssertEqual(count, 1) }
                let second = Task { try await client.scalar(Self.lateSpanCall.sql) }
                var waiting = 0
                for _ in 0..<100 where waiting == 0 {
                    try await Task.sleep(for: .milliseconds(50))
                    waiting = try await client.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted")
                }
                let onTheLock = try await client.scalar(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                XCTAssertEqual(onTheLock, 1, "the second batch did not wait for the first's advisory lock")
                _ = try await first.query("COMMIT", logger: TestDatabase.logger)
                let secondStored = try await second.value
                XCTAssertEqual(secondStored, 0)
            }
            let copies = try await client.scalar(
                "SELECT count(*) FROM observability.spans WHERE trace_id = 'feedfeedfeedfeedfeedfeedfeedfeed'")
            XCTAssertEqual(copies, 1)
        }
    }

    func testAStoreAt0018ConvertsWithEveryDayIndexedForItsState() async throws {
        try await TestDatabase.with(migrated: false) { _, client in
            let migrations = try TestDatabase.migrations()
            let through0018 = Array(migrations.prefix { $0.version <= 18 })
            XCTAssertEqual(through0018.count, 18)
            try await MigrationRunner(client: client, migrations: through0018, logger: TestDatabase.logger).migrate()
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            try await partitions.ensurePartitions(daysBack: 3)
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let now = SpanFixtures.nowUnixNano()
            let twoDaysAgo = ResourceStorageTests.partitionName(unixNano: now - 2 * Self.day)
            let yesterday = ResourceStorageTests.partitionName(unixNano: now - Self.day)
            let old = ResourceStorageTests.traffic(traces: 300, base: now - 2 * Self.day, firstTrace: 1)
            let closed = ResourceStorageTests.traffic(traces: 300, base: now - Self.day, firstTrace: 1_000)
            let recent = ResourceStorageTests.traffic(traces: 20, base: now - 60_000_000_000, firstTrace: 2_000)
            _ = try await store.write(old + closed + recent)
            let rewritten = try await partitions.compact(twoDaysAgo)?.name
            XCTAssertEqual(rewritten, twoDaysAgo)
            let spansQuery = "SELECT row_to_json(l)::text FROM observability.span_list l ORDER BY trace_id, span_id"
            let spans = try await client.strings(spansQuery)

            try await MigrationRunner(client: client, migrations: migrations, logger: TestDatabase.logger).migrate()
            let upgraded = try await client.strings(spansQuery)
            XCTAssertEqual(upgraded, spans)
            let closedIndexes = try await Self.indexes(client, on: twoDaysAgo)
            XCTAssertEqual(closedIndexes, ["trace_id"])
            let openIndexes = try await Self.indexes(client, on: yesterday)
            XCTAssertEqual(openIndexes, ["UNIQUE trace_id, span_id, start_time"])
            // Every export sent again stores nothing: through ON CONFLICT on the days with
            // their key, through the check against stored spans on the rewritten one.
            let resent = try await store.write(old + closed + recent)
            XCTAssertEqual(resent, 0)
            // Yesterday is rewritten by the new compaction, and keeps every span.
            let rewrittenNow = try await partitions.compact(yesterday)?.name
            XCTAssertEqual(rewrittenNow, yesterday)
            let rewrittenIndexes = try await Self.indexes(client, on: yesterday)
            XCTAssertEqual(rewrittenIndexes, ["trace_id"])
            let afterRewrite = try await client.strings(spansQuery)
            XCTAssertEqual(afterRewrite, spans)
            let resentAgain = try await store.write(closed)
            XCTAssertEqual(resentAgain, 0)
        }
    }

    static let day: UInt64 = 86_400 * 1_000_000_000

    /// One span of trace feedfeed…, 12 hours before today began (so in yesterday's
    /// partition), through `ingest_spans()` as the span writer calls it; returns the
    /// number of spans stored. Its resource is one `traffic` has stored already, so that
    /// a second call waits for nothing but the lock under test.
    static let lateSpanCall: PostgresQuery = """
        SELECT observability_internal.ingest_spans(
            ARRAY['feedfeedfeedfeedfeedfeedfeedfeed'::uuid], ARRAY[77::bigint], ARRAY[0::bigint], ARRAY['late'],
            ARRAY['internal'], ARRAY['internal'], ARRAY[''], ARRAY['svc'], ARRAY[''],
            ARRAY[date_trunc('day', now(), 'UTC') - interval '12 hours'],
            ARRAY[date_trunc('day', now(), 'UTC') - interval '12 hours' + interval '5 ms'], ARRAY[5::float8],
            ARRAY['ok'], ARRAY[''], ARRAY['{}'], ARRAY['{"service.name":"tools","host.name":"h2"}'], ARRAY['[]'])
        """

    /// The unique-or-not flag and key columns of each index of a partition other than
    /// the parent's (operation/target, errors, BRIN), as `UNIQUE a, b` or `a`.
    static func indexes(_ client: PostgresClient, on table: String) async throws -> [String] {
        try await client.strings(
            """
            SELECT CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END
                   || (SELECT string_agg(a.attname, ', ' ORDER BY k.ordinality)
                       FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ordinality)
                       JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum)
            FROM pg_index x
            WHERE x.indrelid = 'observability.\(table)'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = x.indexrelid)
            ORDER BY 1
            """)
    }

    /// The day after a partition's, as `YYYY-MM-DD`.
    static func dayAfter(_ partition: String) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd"
        let day = formatter.date(from: String(partition.dropFirst("spans_p".count)))!.addingTimeInterval(86_400)
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: day)
    }
}

import Foundation
import ObservatoryStore
import PostgresNIO
import XCTest

/// `compact_span_partition()`'s swap beside batches being stored (migration 0021): a
/// batch holds a lock on `observability.spans` from the moment its call is parsed, before
/// it asks for the shared side of the `compacted_days` advisory lock. The swap that took
/// that advisory lock first and then `spans` deadlocked with such a batch: PostgreSQL
/// broke it after `deadlock_timeout` (1 s), cancelling the batch or the rewrite.
final class CompactionLockTests: XCTestCase {
    func testASwapAndABatchArrivingMeanwhileBothFinish() async throws {
        try await TestDatabase.with(connections: 4) { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            let now = SpanFixtures.nowUnixNano()
            let yesterday = ResourceStorageTests.partitionName(unixNano: now - SpanKeyTests.day)
            _ = try await store.write(ResourceStorageTests.traffic(traces: 20, base: now - SpanKeyTests.day, firstTrace: 1))
            let fresh = ResourceStorageTests.traffic(traces: 5, base: now, firstTrace: 1_000)

            try await client.withConnection { inFlight in
                // A batch in flight holds both locks, as ingest_spans() does: `spans` from
                // when its call is parsed, then the shared advisory lock.
                for statement in [
                    "BEGIN", "LOCK TABLE ONLY observability.spans IN ROW EXCLUSIVE MODE",
                    "SELECT pg_advisory_xact_lock_shared(hashtext('observability.compacted_days'))",
                ] {
                    _ = try await inFlight.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger)
                }
                let rewrite = Task { try await partitions.compact(yesterday)?.name }
                try await Self.waitForWaiters(1, client)
                // The next batch arrives while the rewrite waits to swap the day in.
                let batch = Task { try await store.write(fresh) }
                try await Self.waitForWaiters(2, client)
                _ = try await inFlight.query("COMMIT", logger: TestDatabase.logger)

                let rewritten = try await rewrite.value
                XCTAssertEqual(rewritten, yesterday, "the rewrite gave up")
                let stored = try await batch.value
                XCTAssertEqual(stored, fresh.count)
            }
            let closedIndexes = try await SpanKeyTests.indexes(client, on: yesterday)
            XCTAssertEqual(closedIndexes, ["trace_id"])
        }
    }

    /// Waits until `count` sessions wait for a lock (at most 5 s).
    static func waitForWaiters(_ count: Int, _ client: PostgresClient) async throws {
        var waiting = 0
        for _ in 0..<100 where waiting < count {
            try await Task.sleep(for: .milliseconds(50))
            waiting = try await client.scalar("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")
        }
        XCTAssertGreaterThanOrEqual(waiting, count, "fewer sessions than expected wait for a lock")
    }
}

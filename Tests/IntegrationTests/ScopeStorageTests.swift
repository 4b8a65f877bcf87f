import Foundation
import ObservatoryStore
import PostgresNIO
import XCTest

/// Migration 0020: a span's instrumentation scope name stored once in
/// `observability.scopes`, read back wherever it is stored, moved out of rows by
/// compaction and forgotten by retention.
final class ScopeStorageTests: XCTestCase {
    func testEachDistinctScopeIsStoredOnceAndReadBack() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let trace = TraceID(high: 0x5C, low: 1)
            let base = SpanFixtures.nowUnixNano()
            // Scope of each span, by span id: two names, one of them long (past what a
            // B-tree entry can hold), and a span without a scope.
            let long = String(repeating: "instrumentation.", count: 400)
            let scopes: [UInt64: String?] = [1: "fastmcp", 2: "fastmcp", 3: long, 4: nil, 5: long]
            let batch = scopes.keys.sorted().map { span -> SpanRecord in
                var record = SpanFixtures.record(trace: trace, span: span, startOffsetMillis: span, base: base)
                record.scopeName = scopes[span] ?? nil
                return record
            }
            let stored = try await store.write(batch)
            XCTAssertEqual(stored, 5)
            let rows = try await client.scalar("SELECT count(*) FROM observability.scopes")
            XCTAssertEqual(rows, 2)
            let inline = try await client.scalar("SELECT count(*) FROM observability.spans WHERE scope_name IS NOT NULL")
            XCTAssertEqual(inline, 0)
            let read = try await client.strings(
                """
                SELECT coalesce(observability.span_scope(scope_name, scope_id), '(none)')
                FROM observability.spans ORDER BY span_id
                """)
            XCTAssertEqual(read, scopes.keys.sorted().map { scopes[$0]! ?? "(none)" })

            // The trace page reads the same names.
            let traces = TraceStore(client: client, logger: TestDatabase.logger)
            let spans = try await traces.spans(
                trace, from: Date(timeIntervalSinceNow: -60), through: Date(timeIntervalSinceNow: 60))
            XCTAssertEqual(spans.map(\.scopeName), scopes.keys.sorted().map { scopes[$0]! })
            // And OTLP/JSON groups the spans by them: three scopes, one without a name.
            let groups = try await client.scalar(
                """
                SELECT jsonb_array_length(observability.trace_otlp(trace_id) -> 'resourceSpans' -> 0 -> 'scopeSpans')
                FROM observability.traces
                """)
            XCTAssertEqual(groups, 3)
        }
    }

    func testCompactionMovesInlineScopeNamesOut() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let partitions = PartitionStore(client: client, logger: TestDatabase.logger)
            let yesterday = SpanFixtures.nowUnixNano() - SpanKeyTests.day
            let day = ResourceStorageTests.partitionName(unixNano: yesterday)
            let batch = (1...6).map { span -> SpanRecord in
                var record = SpanFixtures.record(trace: TraceID(high: 0x5C, low: 2), span: UInt64(span), base: yesterday)
                record.scopeName = span % 2 == 0 ? "mcp.server" : "opentelemetry.instrumentation.httpx"
                return record
            }
            _ = try await store.write(batch)
            let read = "SELECT observability.span_scope(scope_name, scope_id) FROM observability.spans ORDER BY span_id"
            let before = try await client.strings(read)
            // As a store from before 0020 holds them: the name in the row, no scope row.
            _ = try await client.query(
                "UPDATE observability.spans SET scope_name = observability.span_scope(NULL, scope_id), scope_id = NULL")
            _ = try await client.query("DELETE FROM observability.scopes")
            let inlineRead = try await client.strings(read)
            XCTAssertEqual(inlineRead, before)

            let compacted = try await partitions.compact(day)
            XCTAssertEqual(compacted?.spans, 6)
            let after = try await client.strings(read)
            XCTAssertEqual(after, before)
            let inline = try await client.scalar(
                "SELECT count(*) FROM observability.\(day) WHERE scope_name IS NOT NULL OR scope_id IS NULL")
            XCTAssertEqual(inline, 0)
            let names = try await client.strings("SELECT name FROM observability.scopes ORDER BY name")
            XCTAssertEqual(names, ["mcp.server", "opentelemetry.instrumentation.httpx"])
        }
    }

    func testRetentionForgetsScopesNoKeptSpanCanReferTo() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let batch = ["kept", "gone"].enumerated().map { index, scope -> SpanRecord in
                var record = SpanFixtures.record(trace: TraceID(high: 0x5C, low: 3), span: UInt64(index + 1))
                record.scopeName = scope
                return record
            }
            _ = try await store.write(batch)
            // A batch moves last_seen on once it is more than an hour old, not sooner.
            _ = try await client.query(
                "UPDATE observability.scopes SET last_seen = now() - interval '2 hours' WHERE name = 'kept'")
            _ = try await client.query(
                "UPDATE observability.scopes SET last_seen = now() - interval '30 minutes' WHERE name = 'gone'")
            _ = try await store.write(
                batch.map { record in
                    var again = record
                    again.traceID = TraceID(high: 0x5C, low: 4)
                    return again
                })
            let ages = try await client.strings(
                "SELECT (now() - last_seen < interval '1 minute')::text FROM observability.scopes ORDER BY name")
            XCTAssertEqual(ages, ["false", "true"])  // gone not moved on yet, kept moved on

            // One minute past what a 7-day retention keeps, and one minute short of it.
            _ = try await client.query(
                "UPDATE observability.scopes SET last_seen = now() - interval '7 days 2 hours 1 minute' WHERE name = 'gone'")
            _ = try await client.query(
                "UPDATE observability.scopes SET last_seen = now() - interval '7 days 1 hour 59 minutes' WHERE name = 'kept'")
            let maintenance = MaintenanceStore(client: client, logger: TestDatabase.logger)
            let done = try await maintenance.applyRetention(days: 7, maxTraces: 1_000, maxSelfTraces: 1_000)
            XCTAssertEqual(done?.scopesDeleted, 1)
            let left = try await client.strings("SELECT name FROM observability.scopes")
            XCTAssertEqual(left, ["kept"])
        }
    }
}

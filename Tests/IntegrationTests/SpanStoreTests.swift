import Logging
import ObservatoryStore
import PostgresNIO
import XCTest

final class SpanStoreTests: XCTestCase {
    func testTraceRowMergesSpansArrivingOutOfOrderAcrossBatches() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let trace = TraceID(high: 0xAB, low: 0xCD)
            let base = SpanFixtures.nowUnixNano()
            // Children first, from another service, one of them failed.
            try await store.write([
                SpanFixtures.record(
                    trace: trace, span: 3, parent: 2, name: "db", service: "tools", startOffsetMillis: 20, durationMillis: 5,
                    base: base),
                SpanFixtures.record(
                    trace: trace, span: 2, parent: 1, name: "tools/call x", service: "tools", startOffsetMillis: 10,
                    durationMillis: 30, status: .error, base: base),
            ])
            var row = try await Self.traceRow(client, trace)
            XCTAssertEqual(row.rootName, "tools/call x")  // earliest span until the root arrives
            XCTAssertEqual(row.spanCount, 2)
            try await store.write([
                SpanFixtures.record(
                    trace: trace, span: 1, name: "POST /mcp", service: "gateway", startOffsetMillis: 0, durationMillis: 100,
                    base: base)
            ])
            row = try await Self.traceRow(client, trace)
            XCTAssertEqual(row.rootName, "POST /mcp")
            XCTAssertEqual(row.service, "gateway")
            XCTAssertEqual(row.spanCount, 3)
            XCTAssertEqual(row.errorCount, 1)
            XCTAssertEqual(row.status, "error")
            XCTAssertEqual(row.durationMs, 100, accuracy: 0.01)
            // A late child that ends after the root stretches the trace.
            try await store.write([
                SpanFixtures.record(
                    trace: trace, span: 4, parent: 1, name: "late", startOffsetMillis: 90, durationMillis: 60, base: base)
            ])
            row = try await Self.traceRow(client, trace)
            XCTAssertEqual(row.durationMs, 150, accuracy: 0.01)
            XCTAssertEqual(row.rootName, "POST /mcp")
        }
    }

    func testARetriedBatchIsStoredOnce() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let trace = TraceID(high: 1, low: 2)
            let base = SpanFixtures.nowUnixNano()
            let first = (1...3).map { SpanFixtures.record(trace: trace, span: UInt64($0), base: base) }
            let value1 = try await store.write(first)
            XCTAssertEqual(value1, 3)
            // The same spans again, plus one new: only the new one goes in.
            let retry = first + [SpanFixtures.record(trace: trace, span: 9, base: base)]
            let value2 = try await store.write(retry)
            XCTAssertEqual(value2, 1)
            let value3 = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(value3, 4)
            let value4 = try await Self.traceRow(client, trace).spanCount
            XCTAssertEqual(value4, 4)
        }
    }

    func testSpansOutsideThePartitionsAreKeptAndMovedLater() async throws {
        try await TestDatabase.with { _, client in
            let store = SpanStore(client: client, logger: TestDatabase.logger)
            let tenDaysAgo = SpanFixtures.nowUnixNano() - 10 * 86_400 * 1_000_000_000
            try await store.write([SpanFixtures.record(trace: TraceID(high: 5, low: 5), span: 1, base: tenDaysAgo)])
            let value5 = try await client.scalar("SELECT count(*) FROM observability.spans_default")
            XCTAssertEqual(value5, 1)
            let created = try await PartitionStore(client: client, logger: TestDatabase.logger).ensurePartitions(
                daysBack: 11, daysAhead: 0)
            XCTAssertEqual(created.reduce(0) { $0 + $1.rowsMoved }, 1)
            let value6 = try await client.scalar("SELECT count(*) FROM observability.spans_default")
            XCTAssertEqual(value6, 0)
            let value7 = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(value7, 1)
            // Moving does not count the span twice in its trace.
            let value8 = try await client.scalar("SELECT span_count FROM observability.traces")
            XCTAssertEqual(value8, 1)
        }
    }

    func testHostileTextRoundTrips() async throws {
        try await TestDatabase.with { _, client in
            var record = SpanFixtures.record(trace: TraceID(high: 7, low: 7), span: 1)
            record.name = "tab\there\nnewline \\N backslash 'quote' \"dq\" <script>alert(1)</script> é 😀"
            record.attributesJSON = #"{"k":"line\nbreak \\ \t"}"#
            try await SpanStore(client: client, logger: TestDatabase.logger).write([record])
            let value9 = try await client.strings("SELECT name FROM observability.spans")
            XCTAssertEqual(value9, [record.name])
            let value10 = try await client.strings("SELECT attributes->>'k' FROM observability.spans")
            XCTAssertEqual(value10, ["line\nbreak \\ \t"])
        }
    }

    private struct TraceRow {
        var rootName: String
        var service: String
        var spanCount: Int
        var errorCount: Int
        var status: String
        var durationMs: Double
    }

    private static func traceRow(_ client: PostgresClient, _ trace: TraceID) async throws -> TraceRow {
        let rows = try await client.query(
            "SELECT root_name, service_name, span_count, error_count, status, duration_ms FROM observability.traces WHERE trace_id = \(trace.hex)::uuid"
        )
        for try await (name, service, spans, errors, status, duration) in rows.decode(
            (String, String, Int, Int, String, Double).self)
        {
            return TraceRow(
                rootName: name, service: service, spanCount: spans, errorCount: errors, status: status, durationMs: duration)
        }
        throw PostgresTestError.noRow("trace \(trace.hex)")
    }
}

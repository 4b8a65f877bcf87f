import Foundation
import PostgresNIO
import XCTest

/// Reads that wait for `compact_span_partition()`'s swap (migration 0022). The rewritten
/// day's rows carry the rewrite's transaction id, so a read whose snapshot was taken
/// before the swap committed sees that day as empty. A statement naming `spans` takes its
/// snapshot after its locks; a STABLE function whose statements lock `spans` only when
/// they run used its caller's, taken before. CI caught an OTLP export answering
/// `{"resourceSpans": []}` for a trace whose day the service was compacting. Without
/// 0022 every reader below but `span_ranks` loses the day.
final class CompactionReadTests: XCTestCase {
    /// Each reader the service or a psql user calls, read once alone and once while it
    /// waits for a rewrite of its spans' day; both reads must agree.
    func testReadsThatWaitForASwapSeeTheRewrittenDay() async throws {
        try await TestDatabase.with(connections: 4) { _, client in
            // Three hours ago, in a finished hour that the rollups and the ranks count, and
            // ten minutes ago, in the current hour that merged windows read from the spans.
            let hoursAgo = MetricFixtures.minuteAligned(Date().addingTimeInterval(-3 * 3_600))
            let minutesAgo = MetricFixtures.minuteAligned(Date().addingTimeInterval(-600))
            // Database spans count in the metrics by their spans, tool calls by their calls.
            let spans = [hoursAgo, minutesAgo].flatMap { start in
                (0..<4).map { (index: Int) -> MetricSpan in
                    let durationMs = Double(10 + 7 * index)
                    return MetricSpan(
                        operation: index < 2 ? "db_query" : "tool_invoke",
                        target: index < 2 ? "SELECT docs" : "search_docs", durationMs: durationMs,
                        error: index == 3, start: start.addingTimeInterval(Double(index)))
                }
            }
            try await MetricFixtures.insert(spans, into: client)
            _ = try await client.query("SELECT * FROM observability_internal.rollup_metrics()")
            _ = try await client.query("SELECT observability_internal.refresh_rank_histograms()")
            let days = Set(
                [hoursAgo, minutesAgo].map {
                    ResourceStorageTests.partitionName(unixNano: UInt64($0.timeIntervalSince1970 * 1e9))
                }
            ).sorted()
            let traces = try await client.strings("SELECT trace_id::text FROM observability.traces ORDER BY start_time")
            XCTAssertEqual(traces.count, 8)
            let (first, second, third) = (traces[0], traces[1], traces[2])

            let readers: [(name: String, statements: [String])] = [
                ("trace_otlp", ["SELECT observability.trace_otlp('\(first)')::text"]),
                ("trace_compare", [Self.rows("observability.trace_compare('\(first)', '\(second)')")]),
                (
                    "trace_compare_typical",
                    [Self.rows("observability.trace_compare_typical('\(first)', ARRAY['\(second)', '\(third)']::uuid[])")]
                ),
                ("span_ranks(trace)", [Self.rows("observability.span_ranks('\(first)')")]),
                ("window_metrics", [Self.rows("observability.window_metrics('24 hours')")]),
                ("merged_window_metrics", [Self.rows("observability.merged_window_metrics('7 days')")]),
                (
                    "metrics_1h",
                    [
                        "REFRESH MATERIALIZED VIEW CONCURRENTLY observability.metrics_1h",
                        Self.rows(Self.figures(of: "metrics_1h")),
                    ]
                ),
                (
                    "metrics_24h",
                    [
                        "REFRESH MATERIALIZED VIEW CONCURRENTLY observability.metrics_24h",
                        Self.rows(Self.figures(of: "metrics_24h")),
                    ]
                ),
            ]
            for reader in readers {
                let alone = try await Self.read(reader.statements, client)
                XCTAssertFalse(alone.isEmpty, "\(reader.name) reads nothing even with no rewrite")
                let waiting = try await Self.readWaitingForASwap(of: days, reader.statements, client)
                XCTAssertEqual(waiting, alone, "\(reader.name) read while \(days) were swapped in")
            }
        }
    }

    /// Every row `from` returns, as one text in a fixed order ('' when none).
    static func rows(_ from: String) -> String {
        "SELECT coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '') FROM \(from) r"
    }

    /// A metric view's figures, without the refresh's own times.
    static func figures(of view: String) -> String {
        """
        (SELECT level, operation, server, target, request_count, error_count, avg_ms, p50_ms, p99_ms, max_ms,
                first_seen, last_seen FROM observability.\(view))
        """
    }

    /// Runs `statements` in order and returns the last one's text.
    static func read(_ statements: [String], _ client: PostgresClient) async throws -> String {
        var last: [String] = []
        for statement in statements {
            last = try await client.strings(statement)
        }
        return last.joined(separator: "\n")
    }

    /// Rewrites `days` in a transaction left open, starts `statements` on another
    /// connection, waits until they wait for a lock, then commits the rewrite and returns
    /// what they read.
    static func readWaitingForASwap(of days: [String], _ statements: [String], _ client: PostgresClient)
        async throws -> String
    {
        try await client.withConnection { rewrite in
            _ = try await rewrite.query("BEGIN", logger: TestDatabase.logger)
            for day in days {
                let rewritten = try await rewrite.query(
                    "SELECT partition_name FROM observability.compact_span_partition(\(day))", logger: TestDatabase.logger
                ).collect()
                XCTAssertEqual(rewritten.count, 1, "the rewrite of \(day) gave up")
            }
            let reader = Task { try await read(statements, client) }
            try await CompactionLockTests.waitForWaiters(1, client)
            _ = try await rewrite.query("COMMIT", logger: TestDatabase.logger)
            return try await reader.value
        }
    }
}

import Foundation
import ObservatoryDemo
import ObservatoryStore
import PostgresNIO
import XCTest

/// The metric views and rollups (migrations 0006, 0007) against known inputs, with the
/// clock pinned through refresh_metrics(p_now) instead of sleeps.
final class MetricViewTests: XCTestCase {
    func testPercentilesCountsAndErrorsMatchAnIndependentComputation() async throws {
        try await TestDatabase.with { _, client in
            let now = MetricFixtures.minuteAligned()
            var random = SplitMix64(seed: 42)
            var spans: [MetricSpan] = []
            let plan: [(String, String, Int, Int)] = [
                ("tool_invoke", "alpha", 101, 7), ("tool_invoke", "beta", 57, 3), ("tool_invoke", "gamma", 10, 10),
                ("prompt_render", "summary", 33, 5),
            ]
            for (operation, target, count, errorEvery) in plan {
                for index in 0..<count {
                    let error = index % errorEvery == 0
                    spans.append(
                        MetricSpan(
                            operation: operation, target: target, durationMs: Double(random.next() % 2_000) / 4 + 0.25,
                            error: error, message: error ? "\(target) failure \(index)" : nil,
                            start: now.addingTimeInterval(-3_000 + Double(index) * 10)))
                }
            }
            try await MetricFixtures.insert(spans, into: client)
            let store = MetricsStore(client: client, logger: TestDatabase.logger)
            let refreshed = try await store.refresh(force: true, now: now)
            XCTAssertEqual(refreshed.map(\.window), ["1h", "24h", "7d", "30d"])
            XCTAssertTrue(refreshed.allSatisfy(\.refreshed))

            func check(_ row: MetricRow?, _ subset: [MetricSpan], _ label: String) {
                guard let row else { return XCTFail("no row for \(label)") }
                let durations = subset.map(\.durationMs)
                let errors = subset.filter(\.error).count
                XCTAssertEqual(row.requestCount, subset.count, label)
                XCTAssertEqual(row.errorCount, errors, label)
                XCTAssertEqual(row.errorPct, 100 * Double(errors) / Double(subset.count), accuracy: 1e-9, label)
                XCTAssertEqual(row.avgMs ?? .nan, durations.reduce(0, +) / Double(durations.count), accuracy: 1e-9, label)
                XCTAssertEqual(row.p50Ms ?? .nan, MetricFixtures.percentileCont(durations, 0.5), accuracy: 1e-9, label)
                XCTAssertEqual(row.p90Ms ?? .nan, MetricFixtures.percentileCont(durations, 0.9), accuracy: 1e-9, label)
                XCTAssertEqual(row.p95Ms ?? .nan, MetricFixtures.percentileCont(durations, 0.95), accuracy: 1e-9, label)
                XCTAssertEqual(row.p99Ms ?? .nan, MetricFixtures.percentileCont(durations, 0.99), accuracy: 1e-9, label)
                XCTAssertEqual(row.maxMs, durations.max() ?? -1, label)
                XCTAssertEqual(row.computedAt.timeIntervalSince1970, now.timeIntervalSince1970, accuracy: 0.001, label)
                let latestError = subset.filter(\.error).max { $0.start < $1.start }
                XCTAssertEqual(row.exampleError, latestError?.message, label)
            }

            let tools = try await store.targets(window: .hour, operation: .toolInvoke, limit: 100)
            XCTAssertEqual(tools.map(\.target), ["alpha", "beta", "gamma"])  // by count, descending
            for row in tools {
                check(row, spans.filter { $0.target == row.target }, row.target)
            }
            check(
                try await store.aggregate(window: .hour, operation: .toolInvoke),
                spans.filter { $0.operation == "tool_invoke" }, "tool_invoke as a whole")
            check(try await store.aggregate(window: .hour, operation: nil), spans, "everything")

            // The psql views read the same rows.
            let viaView = try await client.query(
                "SELECT tool_name, p99_ms FROM observability.tool_metrics WHERE time_window = '1h' ORDER BY p99_ms DESC"
            ).collect()
            XCTAssertEqual(viaView.count, 3)
            let prompts = try await client.scalar(
                "SELECT count(*)::int FROM observability.prompt_metrics WHERE time_window = '24h' AND prompt_name = 'summary'")
            XCTAssertEqual(prompts, 1)
        }
    }

    func testHealthColorsAtTheThresholds() async throws {
        try await TestDatabase.with { _, client in
            let now = MetricFixtures.minuteAligned()
            // 100 calls each; the name is the number of failures.
            let failures = [0, 4, 5, 20, 21, 50, 51, 100]
            var spans: [MetricSpan] = []
            for failed in failures {
                for index in 0..<100 {
                    spans.append(
                        MetricSpan(
                            target: "t\(failed)", durationMs: 5, error: index < failed,
                            start: now.addingTimeInterval(-Double(index) - 10)))
                }
            }
            try await MetricFixtures.insert(spans, into: client)
            let store = MetricsStore(client: client, logger: TestDatabase.logger)
            try await store.refresh(force: true, now: now)
            let rows = try await store.targets(window: .hour, operation: .toolInvoke, limit: 100)
            let health = Dictionary(uniqueKeysWithValues: rows.map { ($0.target, $0.health) })
            XCTAssertEqual(
                health,
                [
                    "t0": .green, "t4": .green, "t5": .yellow, "t20": .yellow, "t21": .red, "t50": .red,
                    "t51": .critical, "t100": .critical,
                ])
            // Most error-prone first, and only targets with errors.
            let prone = try await store.errorProne(window: .hour, operation: nil, limit: 3)
            XCTAssertEqual(prone.map(\.target), ["t100", "t51", "t50"])
            let limited = try await store.targets(
                window: .hour, operation: .toolInvoke, sort: .errors, descending: false, limit: 2)
            XCTAssertEqual(limited.map(\.target), ["t0", "t4"])
        }
    }

    func testEachWindowCountsOnlyItsOwnSpans() async throws {
        try await TestDatabase.with { _, client in
            let now = MetricFixtures.minuteAligned()
            // The last one starts after the pinned clock: in no window as of `now`.
            let ages: [Double] = [30 * 60, 2 * 3_600, 3 * 86_400, 10 * 86_400, 40 * 86_400, -600]
            try await MetricFixtures.insert(
                ages.map { MetricSpan(target: "w", durationMs: 1, start: now.addingTimeInterval(-$0)) }, into: client)
            let store = MetricsStore(client: client, logger: TestDatabase.logger)
            try await store.refresh(force: true, now: now)
            var counts: [Int] = []
            for window in MetricWindow.allCases {
                counts.append(try await store.targets(window: window, operation: .toolInvoke, limit: 10).first?.requestCount ?? 0)
            }
            XCTAssertEqual(counts, [1, 2, 3, 4])
        }
    }

    func testRefreshFollowsEachWindowsCadenceAndSkipsABusyWindow() async throws {
        try await TestDatabase.with { _, client in
            let store = MetricsStore(client: client, logger: TestDatabase.logger)
            let start = MetricFixtures.minuteAligned()
            func refreshed(at offset: TimeInterval) async throws -> [String] {
                try await store.refresh(now: start.addingTimeInterval(offset)).filter(\.refreshed).map(\.window)
            }
            let first = try await refreshed(at: 0)
            XCTAssertEqual(first, ["1h", "24h", "7d", "30d"])
            let none = try await refreshed(at: 30)
            XCTAssertEqual(none, [])
            let minute = try await refreshed(at: 60)
            XCTAssertEqual(minute, ["1h"])
            let fiveMinutes = try await refreshed(at: 300)
            XCTAssertEqual(fiveMinutes, ["1h", "24h"])
            let hour = try await refreshed(at: 3_600)
            XCTAssertEqual(hour, ["1h", "24h", "7d", "30d"])

            // While another session refreshes the 30-day view, the others go ahead.
            try await client.withConnection { connection in
                _ = try await connection.query(
                    "SELECT pg_advisory_lock(hashtext('observability.refresh_metrics'), hashtext('30d'))",
                    logger: TestDatabase.logger)
                let outcomes = try await store.refresh(force: true, now: start.addingTimeInterval(7_200))
                XCTAssertEqual(outcomes.map(\.outcome), ["refreshed", "refreshed", "refreshed", "busy"])
                _ = try await connection.query(
                    "SELECT pg_advisory_unlock(hashtext('observability.refresh_metrics'), hashtext('30d'))",
                    logger: TestDatabase.logger)
            }
            // One window alone, without the rollup.
            let single = try await store.refresh(
                force: true, now: start.addingTimeInterval(7_300), windows: [.day], rollup: false)
            XCTAssertEqual(single.map(\.window), ["24h"])
            do {
                _ = try await client.query("SELECT * FROM observability.refresh_metrics(p_windows => ARRAY['2h'])").collect()
                XCTFail("an unknown window must be refused")
            } catch {}
        }
    }

    func testRollupIsIncrementalAndIdempotent() async throws {
        try await TestDatabase.with { _, client in
            let t0 = MetricFixtures.minuteAligned()
            let early = [
                MetricSpan(target: "a", durationMs: 10, start: t0.addingTimeInterval(-90 * 60 + 5)),
                MetricSpan(target: "a", durationMs: 30, error: true, start: t0.addingTimeInterval(-90 * 60 + 15)),
                MetricSpan(target: "b", durationMs: 20, start: t0.addingTimeInterval(-30 * 60 + 1)),
                MetricSpan(target: "a", durationMs: 40, start: t0.addingTimeInterval(-5 * 60 + 1)),
            ]
            try await MetricFixtures.insert(early, into: client)

            func rollup(_ now: Date) async throws -> (from: Date, until: Date) {
                let rows = try await client.query(
                    "SELECT rolled_from, rolled_until FROM observability_internal.rollup_metrics(\(now))"
                ).decode((Date, Date).self)
                for try await (from, until) in rows { return (from, until) }
                throw PostgresTestError.noRow("rollup_metrics")
            }
            func minuteTotal(_ bucket: Date) async throws -> Int {
                try await client.scalar(
                    "SELECT coalesce(sum(request_count), 0)::int FROM observability.metrics_minute WHERE level = 'total' AND bucket = '\(ISO8601DateFormatter().string(from: bucket))'"
                )
            }
            func snapshot() async throws -> [String] {
                try await client.strings(
                    "SELECT concat_ws('|', bucket, level, operation, target, request_count, error_count, p50_ms, p99_ms) FROM observability.metrics_minute ORDER BY 1"
                )
            }

            let first = try await rollup(t0)
            XCTAssertEqual(first.until, t0)
            let ninety = t0.addingTimeInterval(-90 * 60)
            let rolledNinety = try await minuteTotal(ninety)
            XCTAssertEqual(rolledNinety, 2)
            let errorsNinety = try await client.scalar(
                "SELECT error_count::int FROM observability.metrics_minute WHERE level = 'target' AND target = 'a' AND bucket = '\(ISO8601DateFormatter().string(from: ninety))'"
            )
            XCTAssertEqual(errorsNinety, 1)
            let p50 = try await client.query(
                "SELECT p50_ms FROM observability.metrics_minute WHERE level = 'target' AND target = 'a' AND bucket = \(ninety)"
            ).decode(Double.self)
            for try await value in p50 { XCTAssertEqual(value, 20, accuracy: 1e-9) }

            // Same clock again: the same rows, and only the late-arrival margin reread.
            let before = try await snapshot()
            let again = try await rollup(t0)
            XCTAssertEqual(again.from, t0.addingTimeInterval(-10 * 60))
            let after = try await snapshot()
            XCTAssertEqual(before, after)

            // Mark an old bucket; a later run must not rescan it.
            _ = try await client.query(
                "UPDATE observability.metrics_minute SET request_count = 999 WHERE level = 'total' AND bucket = \(ninety)")
            try await MetricFixtures.insert(
                [
                    MetricSpan(target: "a", durationMs: 50, start: t0.addingTimeInterval(2 * 60 + 1)),
                    // Late: its minute was already rolled up, but it is within the margin.
                    MetricSpan(target: "b", durationMs: 60, start: t0.addingTimeInterval(-3 * 60 + 1)),
                ], into: client)
            let later = try await rollup(t0.addingTimeInterval(5 * 60))
            XCTAssertEqual(later.from, t0.addingTimeInterval(-10 * 60))
            let untouched = try await minuteTotal(ninety)
            XCTAssertEqual(untouched, 999)
            let lateMinute = try await minuteTotal(t0.addingTimeInterval(-3 * 60))
            XCTAssertEqual(lateMinute, 1)
            let newMinute = try await minuteTotal(t0.addingTimeInterval(2 * 60))
            XCTAssertEqual(newMinute, 1)
            // The hour rows cover every span, from the spans themselves.
            let hourTotal = try await client.scalar(
                "SELECT sum(request_count)::int FROM observability.metrics_hour WHERE level = 'total'")
            XCTAssertEqual(hourTotal, 6)
            // The series the summary chart reads.
            let series = try await MetricsStore(client: client, logger: TestDatabase.logger)
                .series(window: .hour, now: t0.addingTimeInterval(5 * 60))
            // b at −30 min, a at −5 min, the late b at −3 min and a at +2 min; not the −90 min ones.
            XCTAssertEqual(series.map(\.requestCount).reduce(0, +), 4)
        }
    }
}

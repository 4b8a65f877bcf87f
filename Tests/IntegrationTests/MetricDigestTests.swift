import Foundation
import ObservatoryDemo
import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO
import XCTest

/// The 7-day and 30-day views merged from digests (migration 0012): exact counts, errors,
/// averages and maxima, percentiles within 1 % of PERCENTILE_CONT, computed here
/// independently from the same known input.
final class MetricDigestTests: XCTestCase {
    /// The digests' promise: each percentile within 1 % of the exact one.
    static let relativeError = 0.01

    func testMergedWindowsMatchAnIndependentComputation() async throws {
        try await TestDatabase.with { _, client in
            let now = MetricFixtures.minuteAligned()
            var random = SplitMix64(seed: 7)
            var spans: [MetricSpan] = []
            // Durations from 1 µs to 100 s on a log scale, some of them zero; spread over 20
            // days so that whole days, whole hours and partial hours all take part.
            let plan: [(String, String, Int)] = [
                ("tool_invoke", "search", 700), ("tool_invoke", "fetch", 300), ("prompt_render", "summary", 150),
                ("http_request", "GET /health", 400),
            ]
            for (operation, target, count) in plan {
                for index in 0..<count {
                    let exponent = Double(random.next() % 8_000) / 1_000 - 3
                    let duration = index % 97 == 0 ? 0 : pow(10, exponent)
                    let error = random.next() % 10 == 0
                    let age = Double(random.next() % (20 * 86_400)) + 1
                    spans.append(
                        MetricSpan(
                            operation: operation, target: target, durationMs: duration, error: error,
                            message: error ? "\(target) failed \(index)" : nil, start: now.addingTimeInterval(-age)))
                }
            }
            try await MetricFixtures.insert(spans, into: client)
            let store = MetricsStore(client: client, logger: TestDatabase.logger)
            try await store.refresh(force: true, now: now)
            let digests = try await client.scalar(
                "SELECT count(*)::int FROM observability_internal.metric_digests WHERE unit = 'day'")
            XCTAssertGreaterThan(digests, 0, "the rollup wrote no day digests")

            for (window, seconds) in [(MetricWindow.week, 7.0 * 86_400), (.month, 30.0 * 86_400)] {
                let inWindow = spans.filter { $0.start > now.addingTimeInterval(-seconds) && $0.start <= now }
                for (operation, target, _) in plan {
                    let subset = inWindow.filter { $0.target == target }
                    let row = try await store.targets(
                        window: window, operation: SpanOperation(rawValue: operation), limit: 100
                    ).first { $0.target == target }
                    Self.check(row, subset, "\(window) \(target)")
                }
                Self.check(
                    try await store.aggregate(window: window, operation: .toolInvoke),
                    inWindow.filter { $0.operation == "tool_invoke" }, "\(window) tool_invoke")
                Self.check(try await store.aggregate(window: window, operation: nil), inWindow, "\(window) everything")
            }
        }
    }

    /// PERCENTILE_CONT read from a digest, on the inputs where interpolation and buckets
    /// are most likely to go wrong.
    func testDigestPercentilesOnAwkwardInputs() async throws {
        try await TestDatabase.with { _, client in
            let inputs: [[Double]] = [
                [5], [0], [0, 0, 0, 10], [1, 2], [0.001, 1_000_000], Array(repeating: 42, count: 100),
                (1...1_000).map(Double.init), (1...50).map { pow(1.5, Double($0)) }, [0.5, 0.5, 0.5, 100],
            ]
            let fractions = [0.0, 0.5, 0.9, 0.95, 0.99, 1.0]
            for values in inputs {
                let rows = try await client.query(
                    """
                    SELECT observability_internal.digest_percentiles(array_agg(d.key ORDER BY d.key),
                                                                     array_agg(d.n ORDER BY d.key), \(fractions))
                    FROM (SELECT observability_internal.digest_key(v) AS key, count(*) AS n
                          FROM unnest(\(values)::double precision[]) v GROUP BY 1) d
                    """
                ).decode([Double].self)
                var answered = false
                for try await got in rows {
                    answered = true
                    XCTAssertEqual(got.count, fractions.count)
                    for (fraction, value) in zip(fractions, got) {
                        let exact = MetricFixtures.percentileCont(values, fraction)
                        Self.assertClose(value, exact, "p\(fraction) of \(values.prefix(5))")
                    }
                }
                XCTAssertTrue(answered)
            }
            // No rows: NULL percentiles, as PERCENTILE_CONT over nothing.
            let empty = try await client.scalar(
                "SELECT count(*)::int FROM unnest(observability_internal.digest_percentiles('{}', '{}', ARRAY[0.5, 0.9])) p WHERE p IS NULL"
            )
            XCTAssertEqual(empty, 2)
        }
    }

    /// A trace that arrives days after it happened, long after its hour was rolled up,
    /// still reaches the 7-day and 30-day figures once its calls are assembled.
    func testALateTraceReachesTheMergedWindows() async throws {
        try await TestDatabase.with { _, client in
            let now = MetricFixtures.minuteAligned()
            let first = [
                MetricSpan(target: "late", durationMs: 10, start: now.addingTimeInterval(-3 * 86_400)),
                MetricSpan(target: "late", durationMs: 20, start: now.addingTimeInterval(-2 * 86_400)),
            ]
            try await MetricFixtures.insert(first, into: client)
            let store = MetricsStore(client: client, logger: TestDatabase.logger)
            try await store.refresh(force: true, now: now)
            let before = try await store.targets(window: .month, operation: .toolInvoke, limit: 10).first
            XCTAssertEqual(before?.requestCount, 2)

            let late = MetricSpan(
                target: "late", durationMs: 1_000, error: true, message: "late", start: now.addingTimeInterval(-5 * 86_400))
            try await MetricFixtures.insert([late], into: client)
            let later = now.addingTimeInterval(120)
            try await store.refresh(force: true, now: later)
            for window in [MetricWindow.week, .month] {
                let row = try await store.targets(window: window, operation: .toolInvoke, limit: 10).first
                Self.check(row, first + [late], "\(window) with the late trace")
            }
            let hourly = try await client.scalar(
                "SELECT sum(request_count)::int FROM observability.metrics_hour WHERE level = 'total'")
            XCTAssertEqual(hourly, 3, "the late trace's hour was not rolled up again")
        }
    }

    /// A store populated and refreshed at 0011 upgrades to the digests: the merged views
    /// count every request the exact ones did.
    func testUpgradeFromExactViewsKeepsTheFigures() async throws {
        try await TestDatabase.with(migrated: false) { _, client in
            let migrations = try TestDatabase.migrations()
            let before0012 = migrations.filter { $0.version < 12 }
            XCTAssertEqual(before0012.count, 11)
            try await MigrationRunner(client: client, migrations: before0012, logger: TestDatabase.logger).migrate()
            try await PartitionStore(client: client, logger: TestDatabase.logger).ensurePartitions(daysBack: 31)
            let now = MetricFixtures.minuteAligned()
            var random = SplitMix64(seed: 11)
            let spans = (0..<400).map { index in
                MetricSpan(
                    target: "t\(index % 3)", durationMs: Double(random.next() % 100_000) / 100, error: index % 9 == 0,
                    message: index % 9 == 0 ? "e\(index)" : nil,
                    start: now.addingTimeInterval(-Double(random.next() % (25 * 86_400)) - 60))
            }
            try await MetricFixtures.insert(spans, into: client)
            try await MetricsStore(client: client, logger: TestDatabase.logger).refresh(force: true, now: now)

            try await MigrationRunner(client: client, migrations: migrations, logger: TestDatabase.logger).migrate()
            let store = MetricsStore(client: client, logger: TestDatabase.logger)
            for (window, seconds) in [(MetricWindow.week, 7.0 * 86_400), (.month, 30.0 * 86_400)] {
                // The migration refreshed the views as of its own clock: compare with the
                // spans in that window.
                let computedAt = try await store.aggregate(window: window, operation: nil)?.computedAt ?? now
                let inWindow = spans.filter {
                    $0.start > computedAt.addingTimeInterval(-seconds) && $0.start <= computedAt
                }
                for target in ["t0", "t1", "t2"] {
                    let row = try await store.targets(window: window, operation: .toolInvoke, limit: 10)
                        .first { $0.target == target }
                    Self.check(row, inWindow.filter { $0.target == target }, "upgraded \(window) \(target)")
                }
            }
        }
    }

    /// Counts, errors and maxima exactly; averages to rounding; percentiles within 1 %.
    static func check(_ row: MetricRow?, _ subset: [MetricSpan], _ label: String) {
        guard let row else { return XCTFail("no row for \(label)") }
        let durations = subset.map(\.durationMs)
        XCTAssertEqual(row.requestCount, subset.count, label)
        XCTAssertEqual(row.errorCount, subset.filter(\.error).count, label)
        XCTAssertEqual(row.maxMs, durations.max(), label)
        let average = durations.reduce(0, +) / Double(durations.count)
        XCTAssertEqual(row.avgMs ?? .nan, average, accuracy: 1e-9 * max(1, average), label)
        for (fraction, got) in [(0.5, row.p50Ms), (0.9, row.p90Ms), (0.95, row.p95Ms), (0.99, row.p99Ms)] {
            assertClose(got ?? .nan, MetricFixtures.percentileCont(durations, fraction), "\(label) p\(fraction)")
        }
        XCTAssertEqual(
            row.firstSeen.timeIntervalSince1970, subset.map(\.start).min()?.timeIntervalSince1970 ?? 0, accuracy: 1e-3, label)
        XCTAssertEqual(
            row.lastSeen.timeIntervalSince1970, subset.map(\.start).max()?.timeIntervalSince1970 ?? 0, accuracy: 1e-3, label)
        XCTAssertEqual(row.exampleError, subset.filter(\.error).max { $0.start < $1.start }?.message, label)
    }

    /// Within the digests' relative error; zero stays zero.
    static func assertClose(_ got: Double, _ exact: Double, _ label: String) {
        if exact == 0 {
            XCTAssertEqual(got, 0, label)
        } else {
            XCTAssertLessThanOrEqual(abs(got - exact) / exact, relativeError, "\(label): \(got) against \(exact)")
        }
    }
}

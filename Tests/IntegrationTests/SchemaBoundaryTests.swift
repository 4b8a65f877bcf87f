import Foundation
import Logging
import ObservatoryMaintenance
import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO
import XCTest

/// Migration 0010: what psql users see (schema `observability`) against the internals
/// (`observability_internal`), a store written at 0009 carried over, the one rule of when
/// a metric window is due, and retention logged like every other job.
final class SchemaBoundaryTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The names docs/schema.md lists for `schema` in its "Schema `<schema>`" section: the
    /// backticked names in the first column of its table.
    static func documentedObjects(of schema: String) throws -> Set<String> {
        let text = try String(contentsOf: repository.appendingPathComponent("docs/schema.md"), encoding: .utf8)
        var names: Set<String> = []
        var inSection = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") { inSection = line.hasPrefix("### Schema `\(schema)`") }
            guard inSection, line.hasPrefix("| `"), let cell = line.split(separator: "|").first else { continue }
            for (index, part) in cell.split(separator: "`", omittingEmptySubsequences: false).enumerated() where index % 2 == 1 {
                names.insert(String(part))
            }
        }
        return names
    }

    /// Tables, views and functions of `schema`, partitions, indexes and sequences left out:
    /// what `\dt`, `\dv`, `\dm` and `\df` list.
    static func objects(of schema: String, on client: PostgresClient) async throws -> Set<String> {
        let relations = try await client.strings(
            """
            SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '\(schema)' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
            """)
        let functions = try await client.strings(
            """
            SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = '\(schema)'
            """)
        return Set(relations + functions)
    }

    func testEachSchemaHoldsExactlyTheDocumentedObjects() async throws {
        try await TestDatabase.with { _, client in
            let documentedPublic = try Self.documentedObjects(of: "observability")
            let documentedInternal = try Self.documentedObjects(of: "observability_internal")
            XCTAssertTrue(documentedPublic.contains("span_list") && documentedInternal.contains("rollup_state"))
            let publicObjects = try await Self.objects(of: "observability", on: client)
            let internalObjects = try await Self.objects(of: "observability_internal", on: client)
            XCTAssertEqual(publicObjects, documentedPublic, "docs/schema.md, Schema `observability`")
            XCTAssertEqual(internalObjects, documentedInternal, "docs/schema.md, Schema `observability_internal`")
            XCTAssertTrue(publicObjects.isDisjoint(with: internalObjects))
        }
    }

    /// The service's own name is spelled in Swift (`SelfService.name`, what self-spans
    /// carry) and in SQL (`self_service()`, the trace cap; literally in `metric_rows` and
    /// the partial index of self traces, where a constant is needed): all must agree, or
    /// the service's own traffic would count in users' figures.
    func testTheSelfServiceNameAgreesEverywhere() async throws {
        try await TestDatabase.with { _, client in
            let named = try await client.strings("SELECT observability_internal.self_service()")
            XCTAssertEqual(named, [SelfService.name])
            let view = try await client.strings(
                "SELECT pg_get_viewdef('observability_internal.metric_rows'::regclass)")
            XCTAssertTrue(view.first?.contains("'\(SelfService.name)'::text") == true, "\(view)")
            let index = try await client.strings(
                "SELECT pg_get_indexdef('observability.traces_self_start_time_idx'::regclass)")
            XCTAssertTrue(index.first?.contains("'\(SelfService.name)'::text") == true, "\(index)")
        }
    }

    /// Every name a function or view body spells out (string literals and comments aside:
    /// lock keys, settings and format patterns are not names) exists: a PL/pgSQL body is
    /// only checked when it runs, so a moved object it still names would fail at run time.
    func testEveryNameInAFunctionOrViewBodyExists() async throws {
        try await TestDatabase.with { _, client in
            let missing = try await client.strings(
                """
                WITH own AS MATERIALIZED (
                    SELECT n.nspname || '.' || p.proname AS owner, p.oid
                    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname IN ('observability', 'observability_internal')
                ),
                bodies AS (
                    SELECT owner, pg_get_functiondef(oid) AS body FROM own
                    UNION ALL
                    SELECT n.nspname || '.' || c.relname, pg_get_viewdef(c.oid)
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname IN ('observability', 'observability_internal') AND c.relkind IN ('v', 'm')
                ),
                code AS (
                    SELECT owner, regexp_replace(regexp_replace(body, '--[^\\n]*', '', 'g'), '''(?:[^'']|'''')*''', '', 'g') AS text
                    FROM bodies
                ),
                names AS (
                    SELECT DISTINCT owner, m[1] AS name
                    FROM code, regexp_matches(text, '(observability(?:_internal)?\\.[a-z_0-9]+)', 'g') AS m
                )
                SELECT owner || ' names ' || name FROM names
                WHERE to_regclass(name) IS NULL
                  AND NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                                  WHERE n.nspname || '.' || p.proname = name)
                ORDER BY 1
                """)
            XCTAssertEqual(missing, [])
            // The check sees through to the bodies: refresh_metrics names the due rule.
            let named = try await client.scalar(
                """
                SELECT count(*) FROM (SELECT 'observability.refresh_metrics'::regproc::oid AS oid) p
                WHERE pg_get_functiondef(p.oid) LIKE '%observability_internal.due_metric_windows(%'
                """)
            XCTAssertEqual(named, 1)
        }
    }

    /// A store written at 0009 (spans, traces, rollups, window views, claims, the log)
    /// migrates to head with nothing lost, and every function works on it afterwards.
    func testUpgradeFrom0009KeepsDataAndFunctionsWork() async throws {
        try await TestDatabase.with(migrated: false) { _, client in
            let logger = TestDatabase.logger
            let migrations = try TestDatabase.migrations()
            try await MigrationRunner(client: client, migrations: migrations.filter { $0.version <= 9 }, logger: logger)
                .migrate()
            // At 0009, through the functions of 0009.
            _ = try await client.query("SELECT * FROM observability.ensure_partitions()").collect()
            _ = try await client.query(
                """
                SELECT observability.ingest_spans(
                    ARRAY['0af7651916cd43dd8448eb211c80319c', '0af7651916cd43dd8448eb211c80319c']::uuid[], ARRAY[1, 2]::bigint[],
                    ARRAY[0, 1]::bigint[], ARRAY['POST /mcp', 'tools/call search'], ARRAY['server', 'internal'],
                    ARRAY['http_request', 'tool_invoke'], ARRAY['POST /mcp', 'search'], ARRAY['gateway', 'gateway'],
                    ARRAY['', ''], ARRAY[now() - interval '3 minutes', now() - interval '3 minutes'],
                    ARRAY[now() - interval '3 minutes' + interval '20 ms', now() - interval '3 minutes' + interval '15 ms'],
                    ARRAY[20, 15]::float8[], ARRAY['ok', 'error'], ARRAY['', 'boom'], ARRAY['{}', '{}'],
                    ARRAY['{}', '{}'], ARRAY['[]', '[]'])
                """
            ).collect()
            _ = try await client.query("SELECT * FROM observability.refresh_metrics()").collect()
            _ = try await client.query(
                "SELECT observability.claim_maintenance_job('partitions', interval '1 hour', 'replica-a')"
            ).collect()
            _ = try await client.query(
                "SELECT observability.log_maintenance_run('partitions', 'replica-a', now(), '{\"partitions_created\": 4}')"
            ).collect()
            _ = try await client.query("SELECT * FROM observability.apply_retention(7, 1000)").collect()

            let state = """
                SELECT concat_ws(' | ',
                    (SELECT count(*) FROM observability.spans), (SELECT string_agg(concat_ws(',', trace_id, span_count,
                        error_count, root_name), ';') FROM observability.traces),
                    (SELECT string_agg(concat_ws(',', bucket, level, operation, target, request_count, error_count), ';'
                        ORDER BY bucket, level, operation, target) FROM observability.metrics_minute),
                    (SELECT count(*) FROM observability.metrics_hour),
                    (SELECT string_agg(concat_ws(',', level, operation, target, request_count, error_count, example_error), ';'
                        ORDER BY level, operation, target) FROM observability.operation_metrics WHERE time_window = '1h'),
                    (SELECT string_agg(concat_ws(',', time_window, last_refreshed_at), ';' ORDER BY time_window)
                        FROM observability.metric_windows),
                    (SELECT string_agg(concat_ws(',', id, job, owner, started_at, finished_at, details), ';' ORDER BY id)
                        FROM observability.maintenance_log),
                    (SELECT string_agg(concat_ws(',', name, rolled_until), ';') FROM %@.rollup_state WHERE name = 'metrics'),
                    (SELECT string_agg(concat_ws(',', job, last_started_at, last_finished_at, last_owner), ';' ORDER BY job)
                        FROM %@.maintenance_jobs))
                """
            let before = try await client.strings(state.replacingOccurrences(of: "%@", with: "observability"))
            try await MigrationRunner(client: client, migrations: migrations, logger: logger).migrate()
            let after = try await client.strings(state.replacingOccurrences(of: "%@", with: "observability_internal"))
            XCTAssertEqual(after, before)
            XCTAssertTrue(before[0].contains("boom") && before[0].contains("replica-a"), before[0])

            // Every store call, each reaching the moved functions.
            let maintenance = MaintenanceStore(client: client, logger: logger)
            let claimedAgain = try await maintenance.claim(job: "partitions", every: .seconds(3600), owner: "replica-b")
            XCTAssertFalse(claimedAgain, "the claim made at 0009 still holds")
            let claimed = try await maintenance.claim(job: "rollup", every: .seconds(60), owner: "replica-b")
            XCTAssertTrue(claimed)
            let maxLogID = try await client.scalar("SELECT max(id) FROM observability.maintenance_log")
            let logID = try await maintenance.logRun(
                job: "rollup", owner: "replica-b", startedAt: Date(), finishedAt: Date(), details: "{}")
            XCTAssertGreaterThan(logID, maxLogID, "the log's identity carries on")
            let written = try await SpanStore(client: client, logger: logger).write([
                SpanFixtures.record(trace: TraceID(hex: "0af7651916cd43dd8448eb211c80319c")!, span: 3, parent: 1)
            ])
            XCTAssertEqual(written, 1)
            let spanCount = try await client.scalar("SELECT span_count FROM observability.traces")
            XCTAssertEqual(spanCount, 3)
            let metrics = MetricsStore(client: client, logger: logger)
            let rolled = try await metrics.rollup()
            XCTAssertTrue(rolled)
            let refreshed = try await metrics.refresh(force: true)
            XCTAssertEqual(refreshed.map(\.outcome), ["refreshed", "refreshed", "refreshed", "refreshed"])
            let due = try await metrics.dueWindows()
            XCTAssertEqual(due, [])
            _ = try await PartitionStore(client: client, logger: logger).ensurePartitions(daysBack: 2)
            let retention = try await maintenance.applyRetention(days: 7, maxTraces: 1000, maxSelfTraces: 1000)
            XCTAssertEqual(retention?.tracesRemaining, 1)
            let viaSQL = try await client.scalar("SELECT traces_remaining FROM observability.apply_retention(7, 1000)")
            XCTAssertEqual(viaSQL, 1)
            let skew = try await client.strings("SELECT observability_internal.max_future_skew()::text")
            XCTAssertEqual(skew, ["01:00:00"])
            let errors = try await client.scalar(
                "SELECT error_count FROM observability.tool_metrics WHERE time_window = '1h' AND tool_name = 'search'")
            XCTAssertEqual(errors, 1)
        }
    }

    /// The due rule with a pinned clock: never refreshed is due; then each window is due
    /// again 5 s before its cadence has passed, and refresh_metrics() refreshes exactly
    /// the windows that dueWindows() names.
    func testDueWindowsFollowTheCadenceWithAPinnedClock() async throws {
        try await TestDatabase.with { _, client in
            let metrics = MetricsStore(client: client, logger: TestDatabase.logger)
            let t0 = Date(timeIntervalSince1970: 1_795_000_000)
            let never = try await metrics.dueWindows(now: t0)
            XCTAssertEqual(never, [.hour, .day, .week, .month])
            _ = try await metrics.refresh(force: true, now: t0, rollup: false)
            let cases: [(TimeInterval, [MetricWindow])] = [
                (0, []), (54.9, []), (55, [.hour]), (294, [.hour]), (295, [.hour, .day]), (3594, [.hour, .day]),
                (3595, [.hour, .day, .week, .month]),
            ]
            for (offset, expected) in cases {
                let due = try await metrics.dueWindows(now: t0.addingTimeInterval(offset))
                XCTAssertEqual(due, expected, "at t0 + \(offset) s")
            }
            // refresh_metrics() applies the same rule.
            let at = t0.addingTimeInterval(295)
            let named = try await metrics.dueWindows(now: at)
            let outcomes = try await metrics.refresh(now: at, rollup: false)
            XCTAssertEqual(outcomes.filter(\.refreshed).map(\.window), named.map(\.rawValue))
            XCTAssertEqual(outcomes.filter { !$0.refreshed }.map(\.outcome), ["not due", "not due"])
            let after = try await metrics.dueWindows(now: at)
            XCTAssertEqual(after, [])
            // An operator's cadence is read on every call.
            _ = try await client.query(
                "UPDATE observability.metric_windows SET refresh_every = interval '10 minutes' WHERE time_window = '1h'"
            ).collect()
            let slower = try await metrics.dueWindows(now: at.addingTimeInterval(60))
            XCTAssertEqual(slower, [])
        }
    }

    /// The service's retention run and psql's apply_retention() both log through
    /// log_maintenance_run(), the only function that writes maintenance_log, with every
    /// detail retention reports and the job marked finished.
    func testRetentionLogsThroughTheCommonFunction() async throws {
        try await TestDatabase.with { _, client in
            let logger = TestDatabase.logger
            let writers = try await client.strings(
                """
                WITH own AS MATERIALIZED (
                    SELECT n.nspname || '.' || p.proname AS name, p.oid
                    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname IN ('observability', 'observability_internal')
                )
                SELECT name FROM own
                WHERE pg_get_functiondef(oid) ~* 'INSERT\\s+INTO\\s+observability\\.maintenance_log'
                """)
            XCTAssertEqual(writers, ["observability_internal.log_maintenance_run"])

            let store = SpanStore(client: client, logger: logger)
            for trace in [
                "0af7651916cd43dd8448eb211c80319c", "1af7651916cd43dd8448eb211c80319c",
                "2af7651916cd43dd8448eb211c80319c",
            ] {
                try await store.write([SpanFixtures.record(trace: TraceID(hex: trace)!, span: 1)])
            }
            let runner = MaintenanceRunner(
                partitions: PartitionStore(client: client, logger: logger),
                maintenance: MaintenanceStore(client: client, logger: logger),
                metrics: MetricsStore(client: client, logger: logger), calls: CallStore(client: client, logger: logger),
                owner: "host-a:42", retentionDays: 7, maxTraces: 2, maxSelfTraces: 10, callSettle: .seconds(10),
                logger: logger)
            let report = await runner.applyRetention()
            XCTAssertEqual(report.outcome, .ok)
            // The log line keeps its counts; yesterday's empty partition is dropped too.
            XCTAssertEqual(
                report.counts.map(\.0),
                [
                    "partitions_dropped", "spans_deleted", "traces_deleted", "traces_remaining", "resources_deleted",
                    "scopes_deleted", "retention_days", "max_traces",
                ])
            XCTAssertEqual(report.counts.dropFirst().map(\.1), ["1", "1", "2", "0", "0", "7", "2"])

            let keys = [
                "call_partitions_dropped", "calls_deleted", "cutoff", "fifo_bound", "future_bound", "max_self_traces",
                "max_traces", "partitions_dropped", "partitions_skipped", "retention_days", "self_traces_evicted",
                "self_traces_remaining", "spans_deleted", "traces_deleted", "traces_evicted", "traces_future",
                "traces_remaining",
            ]
            let logged = try await client.strings(
                """
                SELECT concat_ws(' ', l.owner, l.finished_at = j.last_finished_at, l.duration_ms >= 0,
                                 (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(l.details) k),
                                 l.details->>'traces_evicted', l.details->>'traces_remaining', l.details->'fifo_bound' <> 'null')
                FROM observability.maintenance_log l JOIN observability_internal.maintenance_jobs j USING (job)
                WHERE l.job = 'retention'
                """)
            XCTAssertEqual(logged, ["host-a:42 t t \(keys.joined(separator: ",")) 1 2 t"])

            // psql: the same row through the same function, owned by the session's name.
            let logID = try await client.scalar("SELECT log_id FROM observability.apply_retention(7, 2)")
            let viaSQL = try await client.strings(
                """
                SELECT concat_ws(' ', l.owner, (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(l.details) k),
                                 l.details->>'traces_evicted', l.details->'fifo_bound')
                FROM observability.maintenance_log l WHERE l.id = \(logID)
                """)
            XCTAssertEqual(viaSQL, ["tests \(keys.joined(separator: ",")) 0 null"])
            let rows = try await client.scalar("SELECT count(*) FROM observability.maintenance_log WHERE job = 'retention'")
            XCTAssertEqual(rows, 2, "one row per run, none written twice")
        }
    }
}

import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO
import XCTest

final class MigrationTests: XCTestCase {
    func testFreshInstallThenNoOp() async throws {
        try await TestDatabase.with(migrated: false) { _, client in
            let runner = MigrationRunner(client: client, migrations: try TestDatabase.migrations(), logger: TestDatabase.logger)
            do throws(MigrationRunner.Failure) {
                try await runner.requireCurrent()
                XCTFail("an empty database must not count as current")
            } catch .behind(let pending) {
                XCTAssertEqual(pending.count, runner.migrations.count)
            }
            let value1 = try await runner.migrate(dryRun: true).count
            XCTAssertEqual(value1, runner.migrations.count)
            let value2 = try await client.scalar(
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'observability' AND EXISTS (SELECT 1 FROM pg_class WHERE relname = 'spans')"
            )
            XCTAssertEqual(value2, 0)
            let value3 = try await runner.migrate().count
            XCTAssertEqual(value3, runner.migrations.count)
            try await runner.requireCurrent()
            let value4 = try await runner.migrate()
            XCTAssertEqual(value4, [])
            let (entries, unknown) = try await runner.status()
            XCTAssertTrue(entries.allSatisfy { $0.state == .applied })
            XCTAssertEqual(unknown, [])
            let value5 = try await client.scalar("SELECT count(*) FROM observability.schema_migrations")
            XCTAssertEqual(value5, runner.migrations.count)
        }
    }

    func testConcurrentRunsApplyEachMigrationOnce() async throws {
        try await TestDatabase.with(migrated: false, connections: 4) { _, client in
            let migrations = try TestDatabase.migrations()
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await MigrationRunner(client: client, migrations: migrations, logger: TestDatabase.logger).migrate()
                            .count
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            XCTAssertEqual(applied.sorted(), [0, 0, migrations.count])
            let value6 = try await client.scalar("SELECT count(*) FROM observability.schema_migrations")
            XCTAssertEqual(value6, migrations.count)
        }
    }

    func testChangedChecksumIsRefused() async throws {
        try await TestDatabase.with { _, client in
            var migrations = try TestDatabase.migrations()
            migrations[1] = Migration(
                version: migrations[1].version, name: migrations[1].name, sql: migrations[1].sql + "\n-- edited")
            let runner = MigrationRunner(client: client, migrations: migrations, logger: TestDatabase.logger)
            do throws(MigrationRunner.Failure) {
                try await runner.migrate()
                XCTFail("an edited migration must be refused")
            } catch .changed(let names) {
                XCTAssertEqual(names, [migrations[1].identifier])
            }
            do throws(MigrationRunner.Failure) {
                try await runner.requireCurrent()
                XCTFail("serve must refuse an edited migration")
            } catch .changed {}
        }
    }

    func testUnknownNewerVersionIsRefusedByServe() async throws {
        try await TestDatabase.with { _, client in
            let migrations = try TestDatabase.migrations()
            let older = MigrationRunner(client: client, migrations: Array(migrations.dropLast()), logger: TestDatabase.logger)
            do throws(MigrationRunner.Failure) {
                try await older.requireCurrent()
                XCTFail("an older build must not serve a newer schema")
            } catch .unknownVersions(let versions) {
                XCTAssertEqual(versions, [migrations.last!.version])
            }
        }
    }

    func testFailingMigrationRollsBackAndStopsThere() async throws {
        try await TestDatabase.with(migrated: false) { _, client in
            var migrations = try TestDatabase.migrations()
            migrations.append(
                Migration(
                    version: migrations.count + 1, name: "break_things",
                    sql: "CREATE TABLE observability.half (x int);\nSELECT no_such_function();"))
            let runner = MigrationRunner(client: client, migrations: migrations, logger: TestDatabase.logger)
            do throws(MigrationRunner.Failure) {
                try await runner.migrate()
                XCTFail("expected the broken migration to fail")
            } catch .failed(let migration, let message) {
                XCTAssertEqual(migration, migrations.last!.identifier)
                XCTAssertTrue(message.contains("no_such_function"), message)
            }
            let value7 = try await client.scalar("SELECT count(*) FROM observability.schema_migrations")
            XCTAssertEqual(value7, migrations.count - 1)
            let value8 = try await client.scalar("SELECT count(*) FROM pg_class WHERE relname = 'half'")
            XCTAssertEqual(value8, 0)
        }
    }

    /// Data written at an older schema version survives migrating to head.
    func testUpgradeKeepsData() async throws {
        try await TestDatabase.with(migrated: false) { _, client in
            let migrations = try TestDatabase.migrations()
            try await MigrationRunner(client: client, migrations: Array(migrations.prefix(2)), logger: TestDatabase.logger)
                .migrate()
            _ = try await client.query(
                """
                INSERT INTO observability.spans (trace_id, span_id, name, kind, operation, service_name, start_time, end_time, duration_ms, status)
                VALUES ('0af7651916cd43dd8448eb211c80319c', 1, 'old', 'server', 'internal', 'svc', now(), now(), 0, 'ok')
                """)
            _ = try await client.query(
                """
                INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time, end_time, span_count, error_count)
                VALUES ('0af7651916cd43dd8448eb211c80319c', 1, 'old', 'svc', now(), now(), 1, 0)
                """)
            try await MigrationRunner(client: client, migrations: migrations, logger: TestDatabase.logger).migrate()
            let spans = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(spans, 1)
            // The later migrations work with it: the partition function moves it out of the
            // default partition, and the ingest function adds to its trace.
            try await PartitionStore(client: client, logger: TestDatabase.logger).ensurePartitions()
            let inDefault = try await client.scalar("SELECT count(*) FROM observability.spans_default")
            XCTAssertEqual(inDefault, 0)
            let spanIDs = try await client.strings("SELECT span_id FROM observability.span_list")
            XCTAssertEqual(spanIDs, ["0000000000000001"])
            var child = SpanFixtures.record(trace: TraceID(hex: "0af7651916cd43dd8448eb211c80319c")!, span: 2, parent: 1)
            child.name = "new"
            try await SpanStore(client: client, logger: TestDatabase.logger).write([child])
            let count = try await client.scalar("SELECT span_count FROM observability.traces")
            XCTAssertEqual(count, 2)
        }
    }
}

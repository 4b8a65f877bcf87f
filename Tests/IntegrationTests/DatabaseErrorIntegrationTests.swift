import ObservatoryConfiguration
import ObservatoryStore
import PostgresNIO
import XCTest

/// Real PostgreSQL failures, as PostgresNIO throws them, classified as callers act on them.
final class DatabaseErrorIntegrationTests: XCTestCase {
    private static func failure(_ sql: String, _ client: PostgresClient) async -> DatabaseError? {
        do {
            _ = try await client.query(PostgresQuery(unsafeSQL: sql)).collect()
            return nil
        } catch {
            return DatabaseError(error)
        }
    }

    func testServerErrorsByTheirCode() async throws {
        try await TestDatabase.with(migrated: false) { database, client in
            _ = try await client.query("CREATE TABLE t (id int PRIMARY KEY)")
            _ = try await client.query("INSERT INTO t VALUES (1)")
            let duplicate = await Self.failure("INSERT INTO t VALUES (1)", client)
            guard case .duplicate = duplicate else { return XCTFail("\(String(describing: duplicate))") }
            let data = await Self.failure("SELECT 'x'::int", client)
            guard case .rejectedData("22P02", _) = data else { return XCTFail("\(String(describing: data))") }
            let url = database.url
            let timeout = try await PostgresClient.withRunning(
                .observatory(url: url, maximumConnections: 1, applicationName: "tests", statementTimeout: .milliseconds(50)),
                logger: TestDatabase.logger
            ) { limited in await Self.failure("SELECT pg_sleep(2)", limited) }
            guard case .unavailable = timeout else { return XCTFail("\(String(describing: timeout))") }
            let bug = await Self.failure("SELEC 1", client)
            guard case .unexpected(let text) = bug, text.hasPrefix("42601") else { return XCTFail("\(String(describing: bug))") }
        }
    }

    func testAConnectionTheServerEndsIsUnavailable() async throws {
        try await TestDatabase.with(migrated: false) { _, client in
            let (ended, afterwards): (DatabaseError?, DatabaseError?) = try await client.withConnection { connection in
                func failure(_ sql: PostgresQuery) async -> DatabaseError? {
                    do {
                        _ = try await connection.query(sql, logger: TestDatabase.logger)
                        return nil
                    } catch {
                        return DatabaseError(error)
                    }
                }
                // The backend ends itself, after or while answering; the next statement meets
                // the server's 57P01 (admin shutdown) or a closed connection.
                return (await failure("SELECT pg_terminate_backend(pg_backend_pid())"), await failure("SELECT 1"))
            }
            if let ended, case .unavailable = ended {} else if let ended { XCTFail("\(ended)") }
            guard case .unavailable = afterwards else { return XCTFail("\(String(describing: afterwards))") }
        }
    }
}

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
            // The backend ends itself while answering: pg_sleep() notices the termination, so
            // the answer is the server's 57P01 (admin shutdown), read with the rows.
            // No statement follows on the ended connection: PostgresNIO 1.33 can leave one
            // waiting forever (vapor/postgres-nio#487, reverted in #501). Here it did so 100
            // times in 100 once the close was seen, and about 1 in 15 when sent right away;
            // one such wait hung CI.
            let ended: DatabaseError? = try await client.withConnection { connection in
                do {
                    let sql: PostgresQuery = "SELECT pg_terminate_backend(pg_backend_pid()), pg_sleep(5)"
                    for try await _ in try await connection.query(sql, logger: TestDatabase.logger) {}
                    return nil
                } catch {
                    return DatabaseError(error)
                }
            }
            guard case .unavailable = ended else { return XCTFail("\(String(describing: ended))") }
        }
    }
}

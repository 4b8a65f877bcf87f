import Foundation
import Logging
import ObservatoryConfiguration
import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO
import XCTest

/// A fresh database on the test PostgreSQL server, dropped afterwards. The server is the
/// one `scripts/test.sh` starts; `OBSERVABILITY_TEST_DATABASE_URL` points elsewhere.
struct TestDatabase {
    static let adminURL: DatabaseURL = {
        let text =
            ProcessInfo.processInfo.environment["OBSERVABILITY_TEST_DATABASE_URL"]
            ?? "postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable"
        return try! DatabaseURL(parsing: text)
    }()

    static let logger: Logger = {
        var logger = Logger(label: "tests")
        logger.logLevel = .error
        return logger
    }()

    /// The migrations the binary is built with.
    static func migrations() throws -> [Migration] {
        try MigrationSource.compiledIn()
    }

    let url: DatabaseURL

    /// Creates a database, runs `body` with a running client on it, drops the database.
    static func with<Result: Sendable>(
        migrated: Bool = true, connections: Int = 4,
        _ body: @Sendable (TestDatabase, PostgresClient) async throws -> Result
    ) async throws -> Result {
        let name = "obs_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await admin("CREATE DATABASE \(name)")
        var url = adminURL
        url.database = name
        let database = TestDatabase(url: url)
        do {
            let result = try await PostgresClient.withRunning(
                .observatory(url: url, maximumConnections: connections, applicationName: "tests"), logger: logger
            ) { client in
                if migrated {
                    try await MigrationRunner(client: client, migrations: try migrations(), logger: logger).migrate()
                    try await PartitionStore(client: client, logger: logger).ensurePartitions()
                }
                return try await body(database, client)
            }
            try await admin("DROP DATABASE \(name) WITH (FORCE)")
            return result
        } catch {
            try? await admin("DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
    }

    private static func admin(_ sql: String) async throws {
        try await PostgresClient.withRunning(
            .observatory(url: adminURL, maximumConnections: 1, applicationName: "tests-admin"), logger: logger
        ) { client in
            _ = try await client.query(PostgresQuery(unsafeSQL: sql))
        }
    }
}

extension PostgresClient {
    /// The single integer a query returns.
    func scalar(_ sql: String) async throws -> Int {
        let rows = try await query(PostgresQuery(unsafeSQL: sql))
        for try await value in rows.decode(Int.self) { return value }
        throw PostgresTestError.noRow(sql)
    }

    func strings(_ sql: String) async throws -> [String] {
        var values: [String] = []
        for try await value in try await query(PostgresQuery(unsafeSQL: sql)).decode(String.self) { values.append(value) }
        return values
    }
}

enum PostgresTestError: Error { case noRow(String) }

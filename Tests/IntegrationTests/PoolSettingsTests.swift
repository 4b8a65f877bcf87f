import ObservatoryConfiguration
import ObservatoryStore
import PostgresNIO
import XCTest

/// What `PostgresClient.Configuration.observatory` sets on every session of a pool, read
/// back from a real PostgreSQL session.
final class PoolSettingsTests: XCTestCase {
    private static func setting(_ name: String, _ configuration: PostgresClient.Configuration) async throws -> String {
        try await PostgresClient.withRunning(configuration, logger: TestDatabase.logger) { client in
            for try await value in try await client.query(PostgresQuery(unsafeSQL: "SHOW \(name)")).decode(String.self) {
                return value
            }
            return ""
        }
    }

    /// The dashboards' pools turn JIT compilation off; the others leave the server's
    /// setting (on by default), which the refreshes' long scans can use.
    func testJITIsOffOnlyWhereAskedFor() async throws {
        try await TestDatabase.with(migrated: false) { database, _ in
            let off = PostgresClient.Configuration.observatory(
                url: database.url, maximumConnections: 1, applicationName: "tests", jit: false)
            let server = PostgresClient.Configuration.observatory(
                url: database.url, maximumConnections: 1, applicationName: "tests")
            let (jitOff, serverDefault) = (try await Self.setting("jit", off), try await Self.setting("jit", server))
            let name = try await Self.setting("application_name", off)
            XCTAssertEqual(jitOff, "off")
            XCTAssertEqual(serverDefault, "on", "the test cluster keeps PostgreSQL's default")
            XCTAssertEqual(name, "tests")
        }
    }
}

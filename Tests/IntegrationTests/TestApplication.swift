import Hummingbird
import HummingbirdTesting
import ObservatoryConfiguration
import ObservatoryWeb
import PostgresNIO

extension TestDatabase {
    /// The application `serve` runs, built by the same `buildApplication` on a fresh
    /// database, with what a test must pin: no self-tracing (its spans would join the
    /// counts), no maintenance loops (tests refresh when they mean to), no Chart.js (pages
    /// are compared without charts), a writer that flushes at once. `tune` changes more;
    /// `readDatabase` names the read replica's URL given the test database's.
    static func withApp(
        _ tune: (inout ObservatoryConfiguration) -> Void = { _ in },
        readDatabase: @escaping @Sendable (DatabaseURL) -> DatabaseURL? = { _ in nil },
        _ body: @Sendable (any TestClientProtocol, PostgresClient) async throws -> Void
    ) async throws {
        var configuration = ObservatoryConfiguration()
        configuration.enabled = false
        configuration.chartJSPath = "/nonexistent/chart.min.js"
        configuration.writerQueueSpans = 10_000
        configuration.batchMaxSpans = 1_000
        configuration.batchMaxWaitMilliseconds = 1
        configuration.writerConnections = 2
        configuration.queryConnections = 2
        // No OTLP/gRPC listener: tests run apps one after another, and others may hold 4317.
        configuration.grpcPort = 0
        tune(&configuration)
        let tuned = configuration
        try await with { database, client in
            var configured = tuned
            configured.databaseURL = database.url
            configured.readDatabaseURL = readDatabase(database.url)
            let app = try buildApplication(
                configuration: configured, migrations: try migrations(), logger: logger,
                options: .init(runsMaintenance: false))
            try await app.test(.router) { testClient in try await body(testClient, client) }
        }
    }
}

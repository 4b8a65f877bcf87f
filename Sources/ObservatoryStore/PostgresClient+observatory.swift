import Logging
import ObservatoryConfiguration
import PostgresNIO

extension PostgresClient.Configuration {
    /// A client configuration for `url` whose connections resolve unqualified names in the
    /// `observability` schema (the benchmark's COPY takes a bare table name) and name
    /// themselves in `pg_stat_activity` as `application_name`. A `statementTimeout` makes
    /// PostgreSQL cancel any statement that runs longer: the dashboards' pool has one, so
    /// a page waiting on a lock answers 503 instead of hanging.
    ///
    /// `jit: false` turns PostgreSQL's JIT compilation off for the pool's sessions. The
    /// dashboards' queries read a few thousand rows through indexes, but a bounded search
    /// (`LIMIT` over a semi-join) can carry a cost estimate far above `jit_above_cost`:
    /// the attribute search at 10 M spans spent 281 ms compiling for 11 ms of execution.
    public static func observatory(
        url: DatabaseURL, maximumConnections: Int, applicationName: String, statementTimeout: Duration? = nil,
        jit: Bool = true
    ) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socket = url.unixSocketPath {
            configuration = .init(unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch url.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(.makeClientConfiguration())
            case .require: tls = .require(.makeClientConfiguration())
            }
            configuration = .init(
                host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [
            ("search_path", "observability, public"),
            ("application_name", applicationName),
        ]
        if !jit { configuration.options.additionalStartupParameters.append(("jit", "off")) }
        if let statementTimeout {
            let milliseconds =
                statementTimeout.components.seconds * 1_000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
            configuration.options.additionalStartupParameters.append(("statement_timeout", String(milliseconds)))
        }
        return configuration
    }
}

extension PostgresClient {
    /// Runs `body` with a client whose connection pool is running, and shuts the pool down
    /// afterwards: for one-shot commands (`migrate`, startup checks) outside a service group.
    public static func withRunning<Result: Sendable>(
        _ configuration: PostgresClient.Configuration, logger: Logger,
        _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        // The pool may log that it is not running yet when the first lease races `run()`;
        // that is expected here, so the pool's own chatter is kept to errors.
        var poolLogger = logger
        poolLogger.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

/// The database did not answer within the startup deadline.
public struct DatabaseUnreachable: Error, CustomStringConvertible {
    public var description: String
}

extension PostgresClient {
    /// Fails within 15 s, with a message naming the database, when it cannot be reached:
    /// every command that talks to the database checks this first, so a wrong URL is one
    /// clear line instead of a minute of connection retries.
    public func checkReachable(_ url: DatabaseURL) async throws {
        let message = "cannot reach PostgreSQL at \(url.redactedDescription) within 15 s (is it running, and is the URL right?)"
        try await Deadline.run(within: .seconds(15), expired: DatabaseUnreachable(description: message)) {
            _ = try await self.query("SELECT 1")
        }
    }
}

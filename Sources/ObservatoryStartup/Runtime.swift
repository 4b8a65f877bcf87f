import ArgumentParser
import Foundation
import Logging
import ObservatoryConfiguration
import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO

/// Start-up chores shared by the subcommands: configuration, logging, migrations.
enum Runtime {
    /// Exit status for an invalid configuration (EX_CONFIG from sysexits.h).
    static let configurationExitCode: Int32 = 78

    /// The configuration from the environment; on problems, prints each on its own line to
    /// stderr and exits with status 78.
    static func loadConfiguration(requiringDatabase: Bool = true) throws -> ObservatoryConfiguration {
        do throws(ObservatoryConfiguration.Invalid) {
            return try ObservatoryConfiguration.load(
                from: ProcessInfo.processInfo.environment, requiringDatabase: requiringDatabase)
        } catch {
            for problem in error.problems {
                printError("configuration error: \(problem)")
            }
            throw ExitCode(configurationExitCode)
        }
    }

    static func requireDatabaseURL(_ configuration: ObservatoryConfiguration) throws -> DatabaseURL {
        guard let url = configuration.databaseURL else {
            printError("configuration error: OBSERVABILITY_DATABASE_URL (or DATABASE_URL) is not set")
            throw ExitCode(configurationExitCode)
        }
        return url
    }

    /// Fails within 15 s, with a message naming the database, when it cannot be reached.
    static func checkReachable(_ client: PostgresClient, _ url: DatabaseURL) async throws {
        let message = "cannot reach PostgreSQL at \(url.redactedDescription) within 15 s (is it running, and is the URL right?)"
        try await Deadline.run(within: .seconds(15), expired: TimedOut(description: message)) {
            _ = try await client.query("SELECT 1")
        }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var description: String
    }

    /// What every command that talks to the database starts from.
    struct DatabaseCommand {
        var configuration: ObservatoryConfiguration
        var url: DatabaseURL
        var logger: Logger
        var migrations: [Migration]

        var parts: (ObservatoryConfiguration, DatabaseURL, Logger, [Migration]) {
            (configuration, url, logger, migrations)
        }
    }

    /// Configuration, database URL, logger and migrations, or exit with the reason.
    static func databaseCommand() throws -> DatabaseCommand {
        let configuration = try loadConfiguration()
        return DatabaseCommand(
            configuration: configuration, url: try requireDatabaseURL(configuration), logger: logger(configuration),
            migrations: try migrations(configuration))
    }

    static func logger(_ configuration: ObservatoryConfiguration, label: String = "observatory") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        return logger
    }

    static func migrations(_ configuration: ObservatoryConfiguration) throws -> [Migration] {
        do {
            return try MigrationSource.load(from: MigrationSource.locate(override: configuration.migrationsDirectory))
        } catch {
            printError("configuration error: \(error)")
            throw ExitCode(configurationExitCode)
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

import ArgumentParser
import Foundation
import Logging
import ObservatoryConfiguration
import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO

/// Start-up chores shared by the subcommands: configuration, logging, migrations.
public enum Runtime {
    /// Exit status for an invalid configuration (EX_CONFIG from sysexits.h).
    public static let configurationExitCode: Int32 = 78

    /// The configuration from the environment; on problems, prints each on its own line to
    /// stderr and exits with status 78.
    public static func loadConfiguration(requiringDatabase: Bool = true) throws -> ObservatoryConfiguration {
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

    public static func requireDatabaseURL(_ configuration: ObservatoryConfiguration) throws -> DatabaseURL {
        guard let url = configuration.databaseURL else {
            printError("configuration error: \(ObservatoryConfiguration.setting(for: \.databaseURL).notSetProblem)")
            throw ExitCode(configurationExitCode)
        }
        return url
    }

    /// What every command that talks to the database starts from.
    public struct DatabaseCommand {
        public var configuration: ObservatoryConfiguration
        public var url: DatabaseURL
        public var logger: Logger
        public var migrations: [Migration]

        public var parts: (ObservatoryConfiguration, DatabaseURL, Logger, [Migration]) {
            (configuration, url, logger, migrations)
        }
    }

    /// Configuration, database URL, logger and migrations, or exit with the reason.
    public static func databaseCommand() throws -> DatabaseCommand {
        let configuration = try loadConfiguration()
        return DatabaseCommand(
            configuration: configuration, url: try requireDatabaseURL(configuration), logger: logger(configuration),
            migrations: try migrations(configuration))
    }

    public static func logger(_ configuration: ObservatoryConfiguration, label: String = "observatory") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        return logger
    }

    public static func migrations(_ configuration: ObservatoryConfiguration) throws -> [Migration] {
        do {
            return try MigrationSource.load(override: configuration.migrationsDirectory)
        } catch {
            printError("configuration error: \(error)")
            throw ExitCode(configurationExitCode)
        }
    }

    public static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

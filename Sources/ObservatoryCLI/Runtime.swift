import ArgumentParser
import Foundation
import Logging
import ObservatoryConfiguration
import ObservatoryMigrations

/// Start-up chores shared by the subcommands: configuration, logging, migrations.
enum Runtime {
    /// Exit status for an invalid configuration (EX_CONFIG from sysexits.h).
    static let configurationExitCode: Int32 = 78

    /// The configuration from the environment; on problems, prints each on its own line to
    /// stderr and exits with status 78.
    static func loadConfiguration() throws -> ObservatoryConfiguration {
        do {
            return try ObservatoryConfiguration.load(from: ProcessInfo.processInfo.environment)
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

    static func logger(_ configuration: ObservatoryConfiguration, label: String = "observatory") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        return logger
    }

    static func migrations(_ configuration: ObservatoryConfiguration) throws -> [Migration] {
        do {
            return try MigrationSource.load(from: MigrationSource.locate(override: configuration.migrationsDirectory))
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

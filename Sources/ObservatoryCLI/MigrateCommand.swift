import ArgumentParser
import Logging
import ObservatoryMigrations
import ObservatoryStartup
import ObservatoryStore
import PostgresNIO

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the database schema up to date, or show where it stands.",
        subcommands: [Apply.self, Status.self],
        defaultSubcommand: Apply.self
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Apply pending migrations (the default), then create the span partitions around today.",
            discussion: """
                Each migration runs in its own transaction. Safe to run twice or from several \
                processes at once: a run holds an advisory lock, and a second one finds nothing left to do. \
                A migration file that changed after it was applied is refused.
                """
        )

        @Flag(name: .long, help: "List the migrations that would be applied, and apply nothing.")
        var dryRun = false

        func run() async throws {
            let (_, url, logger, migrations) = try Runtime.databaseCommand().parts
            do {
                try await PostgresClient.withRunning(
                    .observatory(url: url, maximumConnections: 1, applicationName: "observatory-migrate"), logger: logger
                ) { client in
                    try await client.checkReachable(url)
                    let runner = MigrationRunner(client: client, migrations: migrations, logger: logger)
                    let applied = try await runner.migrate(dryRun: dryRun)
                    if dryRun {
                        print(applied.isEmpty ? "Nothing to apply." : "Would apply:")
                        applied.forEach { print("  \($0.identifier)") }
                        return
                    }
                    applied.forEach { print("applied \($0.identifier)") }
                    let created = try await PartitionStore(client: client, logger: logger).ensurePartitions()
                    print(
                        applied.isEmpty
                            ? "Schema is up to date (\(migrations.count) migrations)."
                            : "Applied \(applied.count) migration(s); schema is up to date.")
                    if !created.isEmpty { print("Created partitions: \(created.map(\.name).joined(separator: ", "))") }
                }
            } catch {
                Runtime.printError("error: \(error)")
                throw ExitCode.failure
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "List every migration as applied, pending or changed. Exits 1 unless all are applied."
        )

        func run() async throws {
            let (_, url, logger, migrations) = try Runtime.databaseCommand().parts
            let current: Bool
            do {
                current = try await PostgresClient.withRunning(
                    .observatory(url: url, maximumConnections: 1, applicationName: "observatory-migrate"), logger: logger
                ) { client in
                    try await client.checkReachable(url)
                    let (entries, unknown) = try await MigrationRunner(
                        client: client, migrations: migrations, logger: logger
                    ).status()
                    for entry in entries {
                        print("\(entry.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(entry.identifier)")
                    }
                    for version in unknown {
                        print("unknown   version \(version) (applied by a newer build)")
                    }
                    return unknown.isEmpty && entries.allSatisfy { $0.state == .applied }
                }
            } catch {
                Runtime.printError("error: \(error)")
                throw ExitCode.failure
            }
            if !current { throw ExitCode.failure }
        }
    }
}

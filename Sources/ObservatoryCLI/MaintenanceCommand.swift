import ArgumentParser
import Logging
import ObservatoryMaintenance
import ObservatoryMigrations
import ObservatoryStartup
import ObservatoryStore
import PostgresNIO

/// `observatory maintenance`: the jobs `serve` schedules, for operators who prefer cron.
struct MaintenanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintenance",
        abstract: "Database upkeep outside `serve`: partitions, retention, compaction, metric rollups and views.",
        subcommands: [RunOnce.self]
    )

    struct RunOnce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-once",
            abstract: "Run every maintenance job once, print what each did, and exit.",
            discussion: """
                Creates the daily partitions ahead, applies retention (OBSERVABILITY_TRACE_RETENTION_DAYS, \
                OBSERVABILITY_MAX_TRACES), compacts closed days' partitions, rolls up new minutes and refreshes the metric views that are due \
                (all of them with --force-refresh). Each job is advisory-locked in SQL, so running this \
                while `serve` replicas run is safe: a job another session is running is reported skipped. \
                Exits 1 when a job failed.
                """
        )

        @Flag(help: "Refresh every metric view, not only those whose cadence has passed.")
        var forceRefresh = false

        func run() async throws {
            let (configuration, url, logger, migrations) = try Runtime.databaseCommand().parts
            // The owner recorded in maintenance_log, and the sessions' name in pg_stat_activity.
            let owner = MaintenanceRunner.processOwner()
            let reports = try await PostgresClient.withRunning(
                .observatory(url: url, maximumConnections: 2, applicationName: String(owner.prefix(63))),
                logger: logger
            ) { client in
                try await client.checkReachable(url)
                do {
                    try await MigrationRunner(client: client, migrations: migrations, logger: logger).requireCurrent()
                } catch {
                    Runtime.printError("error: \(error)")
                    throw ExitCode.failure
                }
                // The log lines would repeat what is printed below.
                var quiet = logger
                quiet.logLevel = .warning
                let runner = MaintenanceRunner(
                    partitions: PartitionStore(client: client, logger: quiet),
                    maintenance: MaintenanceStore(client: client, logger: quiet),
                    metrics: MetricsStore(client: client, logger: quiet), calls: CallStore(client: client, logger: quiet),
                    owner: owner, retentionDays: configuration.retentionDays, maxTraces: configuration.maxTraces,
                    maxSelfTraces: configuration.maxSelfTraces, callSettle: .seconds(configuration.callSettleSeconds),
                    logger: quiet)
                var reports = [
                    await runner.ensurePartitions(), await runner.applyRetention(), await runner.compactPartitions(),
                    await runner.assembleCalls(), await runner.rollup(),
                ]
                reports += await runner.refresh(MetricWindow.allCases, force: forceRefresh)
                return reports
            }
            for report in reports { print(report.line) }
            if reports.contains(where: { $0.outcome == .failed }) { throw ExitCode.failure }
        }
    }
}

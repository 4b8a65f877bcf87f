import ArgumentParser
import Hummingbird
import Logging
import ObservatoryConfiguration
import ObservatoryIngest
import ObservatoryMaintenance
import ObservatoryMigrations
import ObservatoryStore
import ObservatoryWeb
import PostgresNIO

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP server: OTLP/HTTP and JSON ingestion, health endpoints, span writer, maintenance.",
        discussion: """
            Listens on OBSERVABILITY_HOST:OBSERVABILITY_PORT (default 127.0.0.1:4318). Refuses to start \
            when the database schema is behind this build: run `observatory migrate` first. \
            SIGTERM or SIGINT stop it gracefully: the server finishes its requests and every accepted \
            span is committed before the process exits.
            """
    )

    func run() async throws {
        let (configuration, url, logger, migrations) = try Runtime.databaseCommand().parts

        do {
            try await PostgresClient.withRunning(
                .observatory(url: url, maximumConnections: 1, applicationName: "observatory-startup"), logger: logger
            ) { client in
                try await Runtime.checkReachable(client, url)
                try await MigrationRunner(client: client, migrations: migrations, logger: logger).requireCurrent()
                try await PartitionStore(client: client, logger: logger).ensurePartitions()
            }
        } catch {
            Runtime.printError("error: cannot start with the database at \(url.redactedDescription): \(error)")
            throw ExitCode.failure
        }

        let queryClient = PostgresClient(
            configuration: .observatory(
                url: url, maximumConnections: configuration.queryConnections, applicationName: "observatory-query"),
            backgroundLogger: logger)
        let writerClient = PostgresClient(
            configuration: .observatory(
                url: url, maximumConnections: configuration.writerConnections, applicationName: "observatory-writer"),
            backgroundLogger: logger)
        let writer = SpanWriter(
            store: SpanStore(client: writerClient, logger: logger),
            settings: .init(
                queueCapacity: configuration.writerQueueSpans,
                batchMaxSpans: configuration.batchMaxSpans,
                batchMaxWait: .milliseconds(configuration.batchMaxWaitMilliseconds),
                concurrency: configuration.writerConnections),
            logger: logger)
        let routes = ObservatoryRoutes(
            ingest: IngestController(
                pipeline: IngestPipeline(configuration: configuration), writer: writer,
                maxBodyBytes: configuration.maxBodyBytes, ingestToken: configuration.ingestToken, logger: logger),
            health: HealthController(migrations: MigrationRunner(client: queryClient, migrations: migrations, logger: logger)))
        let maintenance = PartitionMaintenance(partitions: PartitionStore(client: queryClient, logger: logger), logger: logger)

        logger.info(
            "starting",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)",
                "database": "\(url.redactedDescription)",
                "sample_rate": "\(configuration.sampleRate)",
                "ingest_token": "\(configuration.ingestToken == nil ? "off" : "on")",
            ])
        let app = buildApplication(
            routes: routes, host: configuration.host, port: configuration.port,
            services: [queryClient, writerClient, writer, maintenance], logger: logger)
        try await app.runService()
    }
}

import ArgumentParser
import Hummingbird
import Logging
import Metrics
import ObservatoryConfiguration
import ObservatoryIngest
import ObservatoryMaintenance
import ObservatoryMigrations
import ObservatoryStore
import ObservatoryTracing
import ObservatoryWeb
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Tracing

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
        // Before anything creates a counter: swift-metrics binds each one to the backend
        // in place when it is made.
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Buckets that fit what is measured: a metric refresh can take minutes, a batch
        // holds up to OBSERVABILITY_BATCH_MAX_SPANS spans.
        factory.durationHistogramBuckets["observatory_maintenance_duration_seconds"] =
            [10, 50, 100, 500, 1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000].map { .milliseconds($0) }
        factory.valueHistogramBuckets["observatory_writer_batch_spans"] =
            [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 100_000]
        MetricsSystem.bootstrap(factory)
        let owner = MaintenanceRunner.processOwner()

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

        // Dashboards, the read API and /readyz: every statement cancelled after 10 s, so a
        // page never hangs on a lock. Maintenance (refreshes that take tens of seconds at
        // millions of spans) has a small pool of its own without that limit.
        let queryClient = PostgresClient(
            configuration: .observatory(
                url: url, maximumConnections: configuration.queryConnections, applicationName: "observatory-query",
                statementTimeout: .seconds(10)),
            backgroundLogger: logger)
        let maintenanceClient = PostgresClient(
            configuration: .observatory(
                url: url, maximumConnections: 3, applicationName: String(owner.prefix(63))),
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
        let renderer: PageRenderer
        do {
            renderer = try PageRenderer()
        } catch {
            Runtime.printError("error: \(error)")
            throw ExitCode.failure
        }
        let assets = StaticController(chartJSPath: configuration.chartJSPath)
        let pipeline = IngestPipeline(configuration: configuration)
        // Self-tracing: the service's own requests and queries go through the same
        // pipeline and writer as a client's spans.
        let exporter: SelfSpanExporter? =
            configuration.enabled
            ? SelfSpanExporter(
                pipeline: pipeline, writer: writer,
                resource: SelfSpanExporter.resource(serviceVersion: Observatory.version, instanceID: owner), logger: logger)
            : nil
        if let exporter {
            InstrumentationSystem.bootstrap(SelfTracer(sampleRate: configuration.sampleRate, exporter: exporter))
        }
        let metrics = MetricsStore(client: queryClient, logger: logger)
        let traces = TraceStore(client: queryClient, logger: logger)
        let queueDepth = Gauge(label: "observatory_writer_queue_spans")
        let selfBuffered = Gauge(label: "observatory_self_spans_buffered")
        let routes = ObservatoryRoutes(
            ingest: IngestController(
                pipeline: pipeline, writer: writer,
                maxBodyBytes: configuration.maxBodyBytes, ingestToken: configuration.ingestToken, logger: logger),
            health: HealthController(migrations: MigrationRunner(client: queryClient, migrations: migrations, logger: logger)),
            dashboard: DashboardController(
                metrics: metrics, traces: traces, renderer: renderer, chartsAvailable: assets.chartsAvailable,
                refreshSeconds: configuration.dashboardRefreshSeconds, metricsEnabled: configuration.metricsEnabled,
                logger: logger),
            api: DashboardAPIController(
                metrics: metrics, traces: traces, metricsEnabled: configuration.metricsEnabled, logger: logger),
            assets: assets,
            prometheus: PrometheusController(registry: registry) {
                queueDepth.record(writer.statistics.queuedSpans)
                selfBuffered.record(exporter?.statistics.buffered ?? 0)
            },
            adminCredentials: configuration.adminUser.flatMap { user in configuration.adminPassword.map { (user, $0) } },
            selfTracing: configuration.enabled
                ? SelfTracingSettings(policy: pipeline.policy, traceHTTPRequests: configuration.traceHTTPRequests) : nil,
            metricsPublic: configuration.metricsPublic)
        let runner = MaintenanceRunner(
            partitions: PartitionStore(client: maintenanceClient, logger: logger),
            maintenance: MaintenanceStore(client: maintenanceClient, logger: logger),
            metrics: MetricsStore(client: maintenanceClient, logger: logger), owner: owner,
            retentionDays: configuration.retentionDays, maxTraces: configuration.maxTraces, logger: logger)
        let cleanup = CleanupService(
            runner: runner, interval: .seconds(configuration.cleanupIntervalSeconds), logger: logger)
        let refresher = MetricsRefresher(
            runner: runner, interval: .seconds(configuration.metricsRefreshSeconds), logger: logger)
        Self.warnAboutDashboardAccess(configuration, assets: assets, logger: logger)
        let server = HTTPServerSettings(
            idleTimeout: .seconds(configuration.httpIdleTimeoutSeconds),
            bodyTimeout: .seconds(configuration.httpBodyTimeoutSeconds),
            maxConnections: OpenFileLimit.connectionsThatFit(configuration, logger: logger),
            allowedHosts: configuration.allowedHosts)

        logger.info(
            "starting",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)",
                "database": "\(url.redactedDescription)",
                "sample_rate": "\(configuration.sampleRate)",
                "ingest_token": "\(configuration.ingestToken == nil ? "off" : "on")",
                "self_tracing": "\(configuration.enabled ? (configuration.traceHTTPRequests ? "on" : "db only") : "off")",
                "retention_days": "\(configuration.retentionDays)",
                "max_traces": "\(configuration.maxTraces)",
                "cleanup_interval_s": "\(configuration.cleanupIntervalSeconds)",
                "http_idle_timeout_s": "\(configuration.httpIdleTimeoutSeconds)",
                "http_body_timeout_s": "\(configuration.httpBodyTimeoutSeconds)",
                "http_max_connections": "\(server.maxConnections ?? configuration.httpMaxConnections)",
                "allowed_hosts": "\(configuration.allowedHosts.isEmpty ? "any" : configuration.allowedHosts.joined(separator: ","))",
                "owner": "\(owner)",
            ])
        // Shut down in reverse: the server stops, then the maintenance loops, then the
        // self-span exporter flushes into the writer, then the writer drains, then the pools close.
        var services: [any Service] = [queryClient, maintenanceClient, writerClient, writer]
        if let exporter { services.append(exporter) }
        services.append(cleanup)
        if configuration.metricsEnabled { services.append(refresher) }
        let app = buildApplication(
            routes: routes, host: configuration.host, port: configuration.port, server: server,
            services: services, logger: logger)
        try await app.runService()
    }

    /// Says at startup what an operator would otherwise find out later: dashboards open
    /// to the network, or charts missing.
    static func warnAboutDashboardAccess(_ configuration: ObservatoryConfiguration, assets: StaticController, logger: Logger) {
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(configuration.host) || configuration.host.hasPrefix("127.")
        if configuration.adminUser == nil, !loopback {
            logger.warning(
                "dashboards and the read API are open to anyone who can reach \(configuration.host):\(configuration.port); set OBSERVABILITY_ADMIN_USER and OBSERVABILITY_ADMIN_PASSWORD to require a password"
            )
        }
        if !assets.chartsAvailable {
            logger.warning(
                "Chart.js not found at \(configuration.chartJSPath) (OBSERVABILITY_CHARTJS_PATH); pages show tables without charts. On Debian: apt-get install libjs-chart.js"
            )
        }
    }
}

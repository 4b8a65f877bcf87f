import Hummingbird
import Logging
import Metrics
import ObservatoryConfiguration
import ObservatoryIngest
import ObservatoryMaintenance
import ObservatoryMigrations
import ObservatoryStore
import ObservatoryTracing
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Tracing

/// What belongs to the process rather than to one application: global bootstraps may
/// happen once per process, so `serve` asks for them and the tests, which build many
/// applications in one process, do not.
public struct ApplicationOptions: Sendable {
    /// The registry `/metrics` serves, already bootstrapped as swift-metrics' backend; nil
    /// leaves `/metrics` out.
    public var metricsRegistry: PrometheusCollectorRegistry?
    /// Installs the self tracer as swift-distributed-tracing's global tracer when
    /// self-tracing is on (`OBSERVABILITY_ENABLED`).
    public var bootstrapsTracing: Bool
    /// Runs the maintenance loops (metric refresh, partitions, retention). Tests that
    /// drive maintenance themselves turn them off.
    public var runsMaintenance: Bool
    /// This build's version, on the self-spans' resource.
    public var version: String
    /// Who runs maintenance, as `maintenance_log` and `maintenance_jobs` record it.
    public var owner: String

    public init(
        metricsRegistry: PrometheusCollectorRegistry? = nil, bootstrapsTracing: Bool = false, runsMaintenance: Bool = true,
        version: String = "dev", owner: String = MaintenanceRunner.processOwner()
    ) {
        self.metricsRegistry = metricsRegistry
        self.bootstrapsTracing = bootstrapsTracing
        self.runsMaintenance = runsMaintenance
        self.version = version
        self.owner = owner
    }
}

/// Why the application could not be built or could not start.
public enum ApplicationFailure: Error, CustomStringConvertible {
    /// `OBSERVABILITY_DATABASE_URL` is missing.
    case noDatabaseURL
    /// A template failed to load.
    case templates(PageRenderer.TemplateError)
    /// A startup check failed: the database is unreachable, behind this build, or
    /// partitions could not be made. Nothing was served.
    case startupCheck(database: DatabaseURL, reason: any Error)

    public var description: String {
        switch self {
        case .noDatabaseURL: ObservatoryConfiguration.setting(for: \.databaseURL).notSetProblem
        case .templates(let error): "\(error)"
        case .startupCheck(let database, let reason):
            "cannot start with the database at \(database.redactedDescription): \(reason)"
        }
    }
}

/// The whole service, built once for `serve`, the HTTP tests and the benchmarks' server:
/// three connection pools (dashboards with a 10 s statement timeout, maintenance without
/// one, the writer's) and a fourth on the read replica if one is set, the span writer,
/// self-tracing, the stores, the routes, and the maintenance loops. The startup checks run
/// before the server accepts a connection: the database is reachable within 15 s, its
/// schema matches `migrations`, today's partitions exist; until they pass no maintenance
/// runs, and when one fails the application stops with
/// ``ApplicationFailure/startupCheck(database:reason:)``.
public func buildApplication(
    configuration: ObservatoryConfiguration, migrations: [Migration], logger: Logger, options: ApplicationOptions = .init()
) throws(ApplicationFailure) -> some ApplicationProtocol {
    guard let url = configuration.databaseURL else { throw .noDatabaseURL }
    let pools = DatabasePools(configuration: configuration, url: url, owner: options.owner, logger: logger)
    let writer = SpanWriter(
        store: SpanStore(client: pools.writer, logger: logger),
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
        throw .templates(error)
    }
    let assets = StaticController(chartJSPath: configuration.chartJSPath)
    let pipeline = IngestPipeline(configuration: configuration)
    // Self-tracing: the service's own requests and queries go through the same pipeline
    // and writer as a client's spans.
    let exporter: SelfSpanExporter? =
        configuration.enabled
        ? SelfSpanExporter(
            pipeline: pipeline, writer: writer,
            resource: SelfSpanExporter.resource(serviceVersion: options.version, instanceID: options.owner), logger: logger)
        : nil
    if let exporter, options.bootstrapsTracing {
        InstrumentationSystem.bootstrap(SelfTracer(sampleRate: configuration.sampleRate, exporter: exporter))
    }
    // The dashboards and the read API: the standby's pool when there is one.
    let metrics = MetricsStore(client: pools.reads, logger: logger)
    let traces = TraceStore(client: pools.reads, logger: logger)
    let calls = CallStore(client: pools.reads, logger: logger)
    let readReplica = pools.replica != nil
    let prometheus = options.metricsRegistry.map { registry in
        let queueDepth = Gauge(label: "observatory_writer_queue_spans")
        let selfBuffered = Gauge(label: "observatory_self_spans_buffered")
        return PrometheusController(registry: registry) {
            queueDepth.record(writer.statistics.queuedSpans)
            selfBuffered.record(exporter?.statistics.buffered ?? 0)
        }
    }
    let ingest = IngestController(
        pipeline: pipeline, writer: writer,
        maxBodyBytes: configuration.maxBodyBytes, ingestToken: configuration.ingestToken, logger: logger)
    let routes = ObservatoryRoutes(
        ingest: ingest,
        health: HealthController(migrations: MigrationRunner(client: pools.query, migrations: migrations, logger: logger)),
        dashboard: DashboardController(
            metrics: metrics, traces: traces, calls: calls,
            views: SavedViewStore(reads: pools.reads, writes: pools.query, logger: logger), renderer: renderer,
            chartsAvailable: assets.chartsAvailable,
            refreshSeconds: configuration.dashboardRefreshSeconds, metricsEnabled: configuration.metricsEnabled,
            readReplica: readReplica, logger: logger),
        api: DashboardAPIController(
            metrics: metrics, traces: traces, calls: calls, metricsEnabled: configuration.metricsEnabled,
            readReplica: readReplica, logger: logger),
        assets: assets,
        prometheus: prometheus,
        adminCredentials: configuration.adminUser.flatMap { user in configuration.adminPassword.map { (user, $0) } },
        selfTracing: configuration.enabled
            ? SelfTracingSettings(
                policy: pipeline.policy, traceHTTPRequests: configuration.traceHTTPRequests,
                traceIngestRequests: configuration.traceIngestRequests) : nil,
        metricsPublic: configuration.metricsPublic,
        replica: pools.replica.map { ReplicaStore(client: $0, logger: logger) })
    let server = HTTPServerSettings(
        idleTimeout: .seconds(configuration.httpIdleTimeoutSeconds),
        bodyTimeout: .seconds(configuration.httpBodyTimeoutSeconds),
        maxConnections: configuration.httpMaxConnections,
        allowedHosts: configuration.allowedHosts)
    let started = StartupGate()

    // Shut down in reverse: the server stops, then the maintenance loops, then the
    // self-span exporter flushes into the writer, then the writer drains, then the pools close.
    var services: [any Service] = [pools.query, pools.maintenance, pools.writer, writer]
    if let replica = pools.replica { services.insert(replica, at: 0) }
    if let exporter { services.append(exporter) }
    // OTLP/gRPC and maintenance wait for the startup checks; on shutdown they stop right
    // after the HTTP server, before the writer drains.
    var afterStartup: [any Service] = []
    if configuration.grpcPort != 0 {
        afterStartup.append(
            GRPCIngestServer(
                host: configuration.host, port: configuration.grpcPort, maxMessageBytes: configuration.maxBodyBytes,
                service: OTLPGRPCService(
                    ingest: ingest, tracesCalls: configuration.enabled && configuration.traceIngestRequests),
                logger: logger))
    }
    if options.runsMaintenance {
        afterStartup += maintenanceServices(configuration: configuration, pools: pools, owner: options.owner, logger: logger)
    }
    if !afterStartup.isEmpty { services.append(AfterStartup(gate: started, services: afterStartup)) }
    warnAboutDashboardAccess(configuration, assets: assets, logger: logger)
    logStart(configuration, url: url, owner: options.owner, logger: logger)
    var app = makeApplication(
        router: buildRouter(routes: routes, server: server, logger: logger), host: configuration.host, port: configuration.port,
        server: server, services: services, logger: logger)
    let startupPool = pools.maintenance
    app.beforeServerStarts {
        do {
            try await startupPool.checkReachable(url)
            try await MigrationRunner(client: startupPool, migrations: migrations, logger: logger).requireCurrent()
            try await PartitionStore(client: startupPool, logger: logger).ensurePartitions()
        } catch {
            throw ApplicationFailure.startupCheck(database: url, reason: error)
        }
        started.open()
    }
    return app
}

/// The connection pools, each a service of the application: three on the primary, and one
/// on the read replica when `OBSERVABILITY_READ_DATABASE_URL` names one.
struct DatabasePools {
    /// Dashboards, the read API and /readyz: every statement cancelled after 10 s, so a
    /// page never hangs on a lock, and no JIT compilation, which costs a page more than
    /// its query saves. With a read replica only /readyz, with a couple of
    /// connections: readiness is the primary's (it is what ingestion needs).
    let query: PostgresClient
    /// The dashboards and the read API on the read replica, with the query pool's size
    /// and timeout; nil without one.
    let replica: PostgresClient?
    /// Maintenance and the startup checks: refreshes take tens of seconds at millions of
    /// spans, so no statement timeout; named after the owner so `pg_stat_activity` shows
    /// which replica holds a job.
    let maintenance: PostgresClient
    /// The span writer's, one connection per concurrent batch.
    let writer: PostgresClient

    /// Where the dashboards and the read API read: the replica, or the primary's query pool.
    var reads: PostgresClient { replica ?? query }

    init(configuration: ObservatoryConfiguration, url: DatabaseURL, owner: String, logger: Logger) {
        replica = configuration.readDatabaseURL.map { readURL in
            PostgresClient(
                configuration: .observatory(
                    url: readURL, maximumConnections: configuration.queryConnections, applicationName: "observatory-query",
                    statementTimeout: .seconds(10), jit: false),
                backgroundLogger: logger)
        }
        query = PostgresClient(
            configuration: .observatory(
                url: url,
                maximumConnections: replica == nil
                    ? configuration.queryConnections : ObservatoryConfiguration.readinessConnections,
                applicationName: replica == nil ? "observatory-query" : "observatory-readiness",
                statementTimeout: .seconds(10), jit: false),
            backgroundLogger: logger)
        maintenance = PostgresClient(
            configuration: .observatory(url: url, maximumConnections: 3, applicationName: String(owner.prefix(63))),
            backgroundLogger: logger)
        writer = PostgresClient(
            configuration: .observatory(
                url: url, maximumConnections: configuration.writerConnections, applicationName: "observatory-writer"),
            backgroundLogger: logger)
    }
}

/// Partitions and retention on their interval; the metric refresh (with call assembly)
/// when metrics are on, call assembly alone when they are off.
private func maintenanceServices(
    configuration: ObservatoryConfiguration, pools: DatabasePools, owner: String, logger: Logger
) -> [any Service] {
    let runner = MaintenanceRunner(
        partitions: PartitionStore(client: pools.maintenance, logger: logger),
        maintenance: MaintenanceStore(client: pools.maintenance, logger: logger),
        metrics: MetricsStore(client: pools.maintenance, logger: logger),
        calls: CallStore(client: pools.maintenance, logger: logger), owner: owner,
        retentionDays: configuration.retentionDays, maxTraces: configuration.maxTraces,
        maxSelfTraces: configuration.maxSelfTraces, callSettle: .seconds(configuration.callSettleSeconds), logger: logger)
    var services: [any Service] = [
        CleanupService(runner: runner, interval: .seconds(configuration.cleanupIntervalSeconds), logger: logger)
    ]
    let refresh = Duration.seconds(configuration.metricsRefreshSeconds)
    if configuration.metricsEnabled {
        services.append(MetricsRefresher(runner: runner, interval: refresh, logger: logger))
    } else {
        services.append(CallAssembler(runner: runner, interval: refresh, logger: logger))
    }
    return services
}

/// Says at startup what an operator would otherwise find out later: dashboards open to
/// the network, or charts missing.
private func warnAboutDashboardAccess(_ configuration: ObservatoryConfiguration, assets: StaticController, logger: Logger) {
    let loopback = ["127.0.0.1", "::1", "localhost"].contains(configuration.host) || configuration.host.hasPrefix("127.")
    if configuration.adminUser == nil, !loopback {
        logger.warning(
            "dashboards and the read API are open to anyone who can reach \(configuration.host):\(configuration.port); set \(ObservatoryConfiguration.key(for: \.adminUser)) and \(ObservatoryConfiguration.key(for: \.adminPassword)) to require a password"
        )
    }
    if !assets.chartsAvailable {
        logger.warning(
            "Chart.js not found at \(configuration.chartJSPath) (\(ObservatoryConfiguration.key(for: \.chartJSPath))); pages show tables without charts. On Debian: apt-get install libjs-chart.js"
        )
    }
}

/// One line with the settings an operator checks first.
private func logStart(_ configuration: ObservatoryConfiguration, url: DatabaseURL, owner: String, logger: Logger) {
    logger.info(
        "starting",
        metadata: [
            "address": "\(configuration.host):\(configuration.port)",
            "grpc_address": "\(configuration.grpcPort == 0 ? "off" : "\(configuration.host):\(configuration.grpcPort)")",
            "database": "\(url.redactedDescription)",
            "read_database": "\(configuration.readDatabaseURL?.redactedDescription ?? "the primary")",
            "sample_rate": "\(configuration.sampleRate)",
            "ingest_token": "\(configuration.ingestToken == nil ? "off" : "on")",
            "self_tracing": "\(configuration.enabled ? (configuration.traceHTTPRequests ? "on" : "db only") : "off")",
            "retention_days": "\(configuration.retentionDays)",
            "max_traces": "\(configuration.maxTraces)",
            "cleanup_interval_s": "\(configuration.cleanupIntervalSeconds)",
            "http_idle_timeout_s": "\(configuration.httpIdleTimeoutSeconds)",
            "http_body_timeout_s": "\(configuration.httpBodyTimeoutSeconds)",
            "http_max_connections": "\(configuration.httpMaxConnections)",
            "allowed_hosts": "\(configuration.allowedHosts.isEmpty ? "any" : configuration.allowedHosts.joined(separator: ","))",
            "owner": "\(owner)",
        ])
}

import Foundation

/// Every setting of the service, read from the environment once at startup.
///
/// Each setting (its environment variable, range, description, and how it parses) is
/// declared once, in ``settingGroups`` (`ObservatoryConfiguration+settings.swift`); the
/// default is the initial value below. ``load(from:requiringDatabase:)`` reads that table and
/// never stops at the first bad value: it collects one precise message per problem so an
/// operator can fix them all in one go. `.env.example` and the settings table of
/// `docs/configuration.md` are generated from the same table (`make config-docs`).
public struct ObservatoryConfiguration: Sendable, Equatable {
    // MARK: Database

    /// The PostgreSQL database; required by the commands that use it.
    public var databaseURL: DatabaseURL?

    /// A PostgreSQL hot standby of ``databaseURL`` that the dashboards and the read API
    /// query instead of the primary; nil reads from the primary.
    public var readDatabaseURL: DatabaseURL?

    /// Connections of the query pool (dashboards, read API, and readiness when no read
    /// replica is set).
    public var queryConnections: Int = 10

    /// Connections `/readyz` keeps on the primary when the query pool goes to the read replica.
    public static let readinessConnections = 2

    // MARK: Listener

    /// The address the HTTP server binds.
    public var host: String = "127.0.0.1"

    /// The HTTP port, OTLP/HTTP's usual one by default.
    public var port: Int = 4318

    /// The OTLP/gRPC port, OTLP/gRPC's usual one by default; 0 turns the gRPC receiver off.
    public var grpcPort: Int = 4317

    // MARK: Access

    /// The bearer token ingestion requires; nil leaves ingestion open.
    public var ingestToken: String?

    /// The HTTP Basic user of the dashboards and read API; set with ``adminPassword`` or not at all.
    public var adminUser: String?

    /// The HTTP Basic password that goes with ``adminUser``.
    public var adminPassword: String?

    /// `GET /metrics` answers without the admin credentials.
    public var metricsPublic: Bool = false

    /// The host names the server answers for; empty accepts every host.
    public var allowedHosts: [String] = []

    // MARK: HTTP connections

    /// Seconds a connection may go without a complete request head.
    public var httpIdleTimeoutSeconds: Int = 30

    /// Seconds the whole body of a request may take after its head.
    public var httpBodyTimeoutSeconds: Int = 60

    /// Client connections open at once, at most.
    public var httpMaxConnections: Int = 1_000

    // MARK: Ingestion

    /// The largest request body accepted, after decompression.
    public var maxBodyBytes: Int = 16 * 1024 * 1024

    /// The share of traces kept.
    public var sampleRate: Double = 1.0

    /// Path patterns whose HTTP server spans are dropped with their traces.
    public var excludePaths: [String] = ["/health", "/healthz", "/ready", "/metrics", "/static/.*"]

    /// Span events are kept at ingest.
    public var eventsEnabled: Bool = true

    /// Longer string values are cut to this many characters.
    public var maxAttributeLength: Int = 8192

    // MARK: Span writer

    /// Spans accepted but not yet committed, at most.
    public var writerQueueSpans: Int = 200_000

    /// Spans per database round trip, at most; never above ``writerQueueSpans``.
    public var batchMaxSpans: Int = 5_000

    /// How long the writer waits to fill a batch once it holds spans.
    public var batchMaxWaitMilliseconds: Int = 5

    /// Connections of the span writer, which is also how many batches commit at once.
    public var writerConnections: Int = 3

    // MARK: Self-tracing

    /// The service traces its own work into its own store.
    public var enabled: Bool = true

    /// Self-tracing includes a span per HTTP request.
    public var traceHTTPRequests: Bool = true

    /// Self-tracing includes ingestion requests (`POST /v1/traces`, `POST /api/v1/spans`).
    public var traceIngestRequests: Bool = false

    // MARK: Retention

    /// Days of spans kept.
    public var retentionDays: Int = 7

    /// Traces kept at most, oldest dropped first.
    public var maxTraces: Int = 100_000

    /// The service's own traces kept at most, apart from `maxTraces`.
    public var maxSelfTraces: Int = 10_000

    /// Seconds between runs of partition upkeep and retention.
    public var cleanupIntervalSeconds: Int = 3_600

    // MARK: Metrics

    /// Metric views are refreshed and shown.
    public var metricsEnabled: Bool = true

    /// Seconds between rollups of new minutes and checks for due metric views.
    public var metricsRefreshSeconds: Int = 60

    /// Seconds a trace must have been quiet before its MCP calls are assembled.
    public var callSettleSeconds: Int = 10

    // MARK: Dashboards

    /// Seconds between auto-refreshes of the dashboards.
    public var dashboardRefreshSeconds: Int = 60

    /// The Chart.js 3 file served to the dashboards.
    public var chartJSPath: String = "/usr/share/javascript/chart.js/chart.min.js"

    // MARK: Process

    /// The least severe log level logged, lowercased.
    public var logLevel: String = "info"

    /// Development only: a folder of migrations to use instead of the ones in the binary.
    public var migrationsDirectory: String?

    public init() {}
}

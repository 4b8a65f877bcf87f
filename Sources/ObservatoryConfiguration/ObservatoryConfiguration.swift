import Foundation

/// Every setting of the service, read from the environment once at startup.
///
/// Each property's documentation names its environment variable, default and range; the
/// same list is in `.env.example` and `docs/configuration.md`. ``load(from:)`` never stops
/// at the first bad value: it collects one precise message per problem so an operator can
/// fix them all in one go.
public struct ObservatoryConfiguration: Sendable, Equatable {
    // MARK: Database and listener

    /// `OBSERVABILITY_DATABASE_URL`, falling back to `DATABASE_URL`: a
    /// `postgres://user:password@host:port/database?sslmode=disable|prefer|require` URL.
    /// Required by `serve` and `migrate`.
    public var databaseURL: DatabaseURL?

    /// `OBSERVABILITY_HOST`: the address the HTTP server binds. Default `127.0.0.1`.
    public var host: String = "127.0.0.1"

    /// `OBSERVABILITY_PORT`: the HTTP port, 1–65535. Default `4318`, OTLP/HTTP's usual port.
    public var port: Int = 4318

    // MARK: Access

    /// `OBSERVABILITY_INGEST_TOKEN`: when set, `POST /v1/traces` and `POST /api/v1/spans`
    /// require `Authorization: Bearer <token>`. Default unset (ingestion open).
    public var ingestToken: String?

    /// `OBSERVABILITY_ADMIN_USER`: with `OBSERVABILITY_ADMIN_PASSWORD`, HTTP Basic
    /// credentials for the dashboards and read APIs. Both or neither. Default unset: the
    /// dashboards are open (and `serve` warns when it listens beyond loopback).
    public var adminUser: String?

    /// `OBSERVABILITY_ADMIN_PASSWORD`: see ``adminUser``.
    public var adminPassword: String?

    /// `OBSERVABILITY_METRICS_PUBLIC`: `true` serves `GET /metrics` without the admin
    /// credentials. Default `false`: when ``adminUser`` is set, `/metrics` asks for the same
    /// HTTP Basic credentials as the dashboards, because it names every tool, prompt and
    /// resource (URIs included) that clients reported. Without admin credentials it is open
    /// either way.
    public var metricsPublic: Bool = false

    /// `OBSERVABILITY_ALLOWED_HOSTS`: comma-separated host names (or addresses) the server
    /// answers for, compared with the request's `Host` without its port, in any case; an
    /// entry starting with `.` also matches every subdomain (`.example.com`). A request
    /// naming another host gets 421, which defeats DNS rebinding against open dashboards.
    /// `/healthz` and `/readyz` answer any host (orchestrators probe by address). Default
    /// empty: every host is accepted.
    public var allowedHosts: [String] = []

    // MARK: HTTP connections

    /// `OBSERVABILITY_HTTP_IDLE_TIMEOUT`: how long a connection may go without a complete
    /// request head, as seconds or with a unit (`30s`, `2m`), 1 s–1 h. Default 30 s. Closes
    /// idle keep-alive connections and clients that send their headers too slowly
    /// (slowloris), and a body that stops arriving for this long.
    public var httpIdleTimeoutSeconds: Int = 30

    /// `OBSERVABILITY_HTTP_BODY_TIMEOUT`: how long the whole body of one request may take
    /// to arrive after its head, as seconds or with a unit, 1 s–1 h. Default 60 s. A body
    /// dribbled byte by byte never looks idle; this bounds it, and the connection is closed.
    public var httpBodyTimeoutSeconds: Int = 60

    /// `OBSERVABILITY_HTTP_MAX_CONNECTIONS`: open client connections at most,
    /// 1–1,000,000. Default 1,000. Beyond it the server stops accepting: new connections
    /// wait in the kernel's listen queue until one closes, so the process never runs out of
    /// file descriptors. `serve` raises its open-file limit to fit when it may, and
    /// otherwise lowers this cap to fit and says so.
    public var httpMaxConnections: Int = 1_000

    // MARK: Ingestion

    /// `OBSERVABILITY_MAX_BODY_BYTES`: the largest request body accepted, measured after
    /// gzip decompression, 1 KiB–1 GiB. Default 16 MiB. Larger bodies get 413.
    public var maxBodyBytes: Int = 16 * 1024 * 1024

    /// `OBSERVABILITY_SAMPLE_RATE`: the share of traces kept, 0.0–1.0. Default 1.0. The
    /// decision is a function of the trace id, so every span of a trace gets the same one.
    public var sampleRate: Double = 1.0

    /// `OBSERVABILITY_EXCLUDE_PATHS`: comma-separated regular expressions; an HTTP server
    /// span whose path matches one as a whole is dropped together with its trace. Default
    /// `/health,/healthz,/ready,/metrics,/static/.*`. An empty value excludes nothing.
    public var excludePaths: [String] = ["/health", "/healthz", "/ready", "/metrics", "/static/.*"]

    /// `OBSERVABILITY_EVENTS_ENABLED`: `false` drops span events (exceptions included)
    /// at ingest. Default `true`.
    public var eventsEnabled: Bool = true

    /// `OBSERVABILITY_MAX_ATTRIBUTE_LENGTH`: longer string values are cut to this many
    /// characters and marked as truncated, 64–1,048,576. Default 8192.
    public var maxAttributeLength: Int = 8192

    // MARK: Span writer

    /// `OBSERVABILITY_WRITER_QUEUE_SPANS`: spans accepted but not yet committed, at most;
    /// beyond it ingestion answers 429 with `Retry-After`. 1,000–10,000,000. Default 200,000.
    public var writerQueueSpans: Int = 200_000

    /// `OBSERVABILITY_BATCH_MAX_SPANS`: spans per database round trip, at most,
    /// 1–100,000. Default 5,000.
    public var batchMaxSpans: Int = 5_000

    /// `OBSERVABILITY_BATCH_MAX_WAIT_MS`: how long the writer waits to fill a batch once it
    /// holds spans, 0–10,000 ms. Default 5. This is added to every ingest request's latency
    /// at low load and buys larger batches at high load.
    public var batchMaxWaitMilliseconds: Int = 5

    /// `OBSERVABILITY_WRITER_CONNECTIONS`: database connections the span writer uses, which
    /// is also how many batches commit at once, 1–64. Default 3. Separate from the query
    /// connections so ingestion never starves the dashboards.
    public var writerConnections: Int = 3

    /// `OBSERVABILITY_QUERY_CONNECTIONS`: database connections for everything but the span
    /// writer (dashboards, health, maintenance), 1–200. Default 10.
    public var queryConnections: Int = 10

    // MARK: Dashboards and metrics

    /// `OBSERVABILITY_METRICS_REFRESH_SECONDS`: how often `serve` calls
    /// `refresh_metrics()`, which rolls up new minutes and refreshes each window's view
    /// when its own cadence (table `metric_windows`) has passed, 5–3,600. Default 60.
    public var metricsRefreshSeconds: Int = 60

    /// `OBSERVABILITY_DASHBOARD_REFRESH_SECONDS`: the interval of the dashboards'
    /// auto-refresh, 1–3,600. Default 60.
    public var dashboardRefreshSeconds: Int = 60

    /// `OBSERVABILITY_CHARTJS_PATH`: Chart.js 3 to serve to the dashboards. Default
    /// `/usr/share/javascript/chart.js/chart.min.js` (Debian's libjs-chart.js). When the
    /// file is missing the pages work without charts and say so where each chart would be.
    public var chartJSPath: String = "/usr/share/javascript/chart.js/chart.min.js"

    // MARK: Seed settings taken over from ContextForge's observability

    /// `OBSERVABILITY_ENABLED`: the service traces its own work into its own store: HTTP
    /// requests (see ``traceHTTPRequests``), the dashboards' and maintenance's database
    /// queries, and maintenance runs. Default `true`. Sampling, path exclusion and events
    /// follow the same settings as ingestion.
    public var enabled: Bool = true

    /// `OBSERVABILITY_TRACE_HTTP_REQUESTS`: self-tracing includes a span per HTTP request,
    /// parent of that request's DB spans. Default `true`. With `false`, DB spans are the
    /// roots of their own traces.
    public var traceHTTPRequests: Bool = true

    /// `OBSERVABILITY_TRACE_RETENTION_DAYS`: days of spans kept, 1–365. Default 7. Older
    /// daily partitions are dropped whole by `apply_retention()`.
    public var retentionDays: Int = 7

    /// `OBSERVABILITY_MAX_TRACES`: traces kept at most, oldest dropped first,
    /// 1–1,000,000,000. Default 100,000. Enforced at each retention run, so the count can
    /// exceed it by what arrives in one ``cleanupIntervalSeconds``.
    public var maxTraces: Int = 100_000

    /// `OBSERVABILITY_CLEANUP_INTERVAL`: how often partitions are created ahead and
    /// retention applied, as seconds or with a unit (`90s`, `15m`, `1h`, `1d`), 1 s–7 days.
    /// Default 1 hour. With several replicas, one of them runs each job per interval.
    public var cleanupIntervalSeconds: Int = 3_600

    /// `OBSERVABILITY_METRICS_ENABLED`: metric views are refreshed and shown. Default `true`.
    /// `false` stops the refresh; the metric pages show a notice and their JSON twins 404.
    public var metricsEnabled: Bool = true

    // MARK: Process

    /// `OBSERVABILITY_LOG_LEVEL`: trace, debug, info, notice, warning, error or critical.
    /// Default `info`.
    public var logLevel: String = "info"

    /// `OBSERVABILITY_MIGRATIONS_DIR`: where the versioned SQL files are. Default: the first
    /// `migrations/` found in the working directory or beside the executable's ancestors.
    public var migrationsDirectory: String?

    public init() {}
}

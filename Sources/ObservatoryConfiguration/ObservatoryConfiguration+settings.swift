import Foundation

extension ObservatoryConfiguration {
    /// Every setting, declared once and grouped by concern, in the order the loader reads
    /// them and the documents show them. Adding a setting is one entry here (and its property).
    ///
    /// A summary is one or two sentences without links (it is also the comment in
    /// `.env.example`); details, intros and notes appear in `docs/configuration.md` only.
    /// Run `make config-docs` after a change.
    public static let settingGroups: [SettingGroup] = [
        SettingGroup(
            "Database",
            notes: """
                Each `serve` process opens up to `\(key(for: \.writerConnections)) + \(key(for: \.queryConnections))` \
                connections, and 3 more for maintenance and the startup checks (metric refresh, partitions and \
                retention, which may run for tens of seconds). Size PostgreSQL's `max_connections` for that \
                many per replica. With `\(key(for: \.readDatabaseURL))` set, the \
                `\(key(for: \.queryConnections))` go to the standby instead, and the primary gets \
                `\(key(for: \.writerConnections)) + 3 + \(readinessConnections)` (\(readinessConnections) for `/readyz`). Statements on the query connections \
                are cancelled by PostgreSQL after 10 s (`statement_timeout`), so a dashboard waiting on a lock \
                answers 503 with `Retry-After` instead of hanging; maintenance has no such limit.
                """,
            [
                .databaseURL(
                    "OBSERVABILITY_DATABASE_URL", alias: "DATABASE_URL", \.databaseURL,
                    example: "postgres://observatory:secret@127.0.0.1:5432/observatory?sslmode=disable",
                    summary: "The PostgreSQL database. Required by `serve`, `migrate` and `bench ingest`.",
                    details: "See [Database URL](#database-url)."),
                .databaseURL(
                    "OBSERVABILITY_READ_DATABASE_URL", \.readDatabaseURL, required: false,
                    example: "postgres://observatory:secret@standby.internal:5432/observatory?sslmode=disable",
                    summary: """
                        A PostgreSQL hot standby of `\(key(for: \.databaseURL))` for the dashboards and the read \
                        API (`GET /api/v1/...`). Unset: they read from the primary.
                        """,
                    details: """
                        Ingestion, maintenance, migrations, the startup checks and `/readyz` stay on the primary. \
                        The pages and API answers say how far the standby's replay is behind; while it cannot be \
                        reached they answer 503 with `Retry-After`, and ingestion goes on. Same format as \
                        `\(key(for: \.databaseURL))`. See [operations.md](operations.md#read-replica).
                        """),
                .integer(
                    "OBSERVABILITY_QUERY_CONNECTIONS", \.queryConnections, in: 1...200,
                    summary: """
                        Database connections for the dashboards, the read API and `/readyz`. With \
                        `\(key(for: \.readDatabaseURL))` set, these are the dashboards' and the read API's on the \
                        standby, and `/readyz` has \(readinessConnections) more of its own on the primary.
                        """,
                    details: "The span writer and maintenance have connections of their own."),
            ]),
        SettingGroup(
            "Listener",
            rules: [
                SettingRule(\.grpcPort, "not `\(key(for: \.port))`") { configuration in
                    guard configuration.grpcPort == configuration.port else { return nil }
                    return
                        "\(key(for: \.grpcPort)) and \(key(for: \.port)) are both \(configuration.port); give gRPC another port, or 0 to turn it off"
                }
            ],
            [
                .text(
                    "OBSERVABILITY_HOST", \.host, format: "a host name or IP address",
                    summary: "The address the HTTP server binds; use `0.0.0.0` to accept connections from other hosts.",
                    details: """
                        The default accepts only local connections; `0.0.0.0` (all IPv4 interfaces) suits a container \
                        or a load balancer on another host.
                        """),
                .integer(
                    "OBSERVABILITY_PORT", \.port, in: 1...65_535,
                    summary: "The HTTP port; 4318 is OTLP/HTTP's usual port."),
                .integer(
                    "OBSERVABILITY_GRPC_PORT", \.grpcPort, in: 0...65_535,
                    summary: """
                        The OTLP/gRPC port (`TraceService/Export`), on the same address as HTTP; 4317 is OTLP/gRPC's \
                        usual port. `0` turns the gRPC receiver off.
                        """,
                    details: """
                        Same pipeline, writer, token, size limit and answers as `POST /v1/traces`, in gRPC status \
                        codes. See [ingestion.md](ingestion.md#otlpgrpc).
                        """),
            ]),
        SettingGroup(
            "Access",
            rules: [
                SettingRule(\.adminUser, "set together with `\(key(for: \.adminPassword))`") { configuration in
                    guard (configuration.adminUser == nil) != (configuration.adminPassword == nil) else { return nil }
                    return
                        "\(key(for: \.adminUser)) and \(key(for: \.adminPassword)) must be set together (only one is set)"
                },
                SettingRule(\.adminUser, "must not contain `:`") { configuration in
                    guard let user = configuration.adminUser, user.contains(":") else { return nil }
                    return
                        "\(key(for: \.adminUser)) must not contain ':' (HTTP Basic separates user and password with it)"
                },
            ],
            [
                .optionalText(
                    "OBSERVABILITY_INGEST_TOKEN", \.ingestToken, format: "any string",
                    summary: """
                        When set, `POST /v1/traces` and `POST /api/v1/spans` require `Authorization: Bearer <token>`. \
                        Unset: ingestion is open to anyone who can reach the port.
                        """,
                    details: """
                        The word `Bearer` may be in any case, the token must match exactly; otherwise they answer 401. \
                        Health endpoints stay open.
                        """),
                .optionalText(
                    "OBSERVABILITY_ADMIN_USER", \.adminUser, format: "any string",
                    summary: """
                        HTTP Basic user for the dashboards (`/admin/...`) and the read API (`GET /api/v1/...`). \
                        Unset: the dashboards are open.
                        """,
                    details: """
                        Wrong or missing credentials get 401 with `WWW-Authenticate: Basic`. Ingestion (its own \
                        token), `/healthz`, `/readyz` and `/static/...` stay open. Without credentials, `serve` logs \
                        a warning at startup when `\(key(for: \.host))` is not a loopback address.
                        """),
                .optionalText(
                    "OBSERVABILITY_ADMIN_PASSWORD", \.adminPassword, format: "any string",
                    summary: "The password for `\(key(for: \.adminUser))`.",
                    details: "Compared in constant time."),
                .flag(
                    "OBSERVABILITY_METRICS_PUBLIC", \.metricsPublic,
                    summary: """
                        `true` serves `GET /metrics` without the admin credentials. `false`: with admin credentials \
                        set, `/metrics` asks for them too (Prometheus: `basic_auth`).
                        """,
                    details: """
                        `/metrics` names every tool, prompt and resource clients reported, resource URIs included, \
                        so by default it is guarded like the dashboards; give the Prometheus scrape job \
                        `basic_auth`. Without admin credentials `/metrics` is open either way.
                        """),
                .hosts(
                    "OBSERVABILITY_ALLOWED_HOSTS", \.allowedHosts, example: "observatory.example.com,10.0.0.5",
                    summary: """
                        The host names the server answers for, compared with the request's `Host` header without \
                        its port, in any case; others get 421. Guards open dashboards against DNS rebinding. \
                        Unset: every host.
                        """,
                    details: """
                        A request with another `Host` (or none) gets **421 Misdirected Request** with a one-line \
                        message and leaves no self-span. `/healthz` and `/readyz` answer every host, because \
                        orchestrators probe by IP address. Set it whenever the dashboards are reachable from browsers \
                        and open (no admin credentials): a page on another site can point its own name at this \
                        server (DNS rebinding) and read the dashboards as same-origin, but its requests still name \
                        its host. A listed value that is not a bare host is a configuration error.
                        """),
            ]),
        SettingGroup(
            "HTTP connections",
            intro: """
                Each client connection holds a file descriptor until it closes; without limits, idle, slowloris \
                (headers sent a byte at a time) and half-sent bodies keep theirs forever, and a few hundred such \
                connections exhaust the process's descriptors, stopping `/healthz`, ingestion and the database \
                pools. See [operations.md](operations.md#connection-limits).
                """,
            [
                .duration(
                    "OBSERVABILITY_HTTP_IDLE_TIMEOUT", \.httpIdleTimeoutSeconds, in: 1...3_600,
                    summary: """
                        A connection is closed when this long passes without a complete request head (idle \
                        keep-alive, slowloris).
                        """,
                    details: """
                        That covers clients that never send and headers dribbled too slowly; a body that stops \
                        arriving for this long is cut too. A request being answered is never cut.
                        """),
                .duration(
                    "OBSERVABILITY_HTTP_BODY_TIMEOUT", \.httpBodyTimeoutSeconds, in: 1...3_600,
                    summary: "The whole body of a request must arrive within this after its head, or the connection is closed.",
                    details: """
                        A body trickling in never looks idle, so this bounds it. Raise it for very large exports \
                        over slow links.
                        """),
                .integer(
                    "OBSERVABILITY_HTTP_MAX_CONNECTIONS", \.httpMaxConnections, in: 1...1_000_000,
                    summary: """
                        Client connections open at once, at most; more wait in the kernel's listen queue. `serve` \
                        raises `ulimit -n` to fit when it may, else lowers the cap and warns.
                        """,
                    details: """
                        A burst can overshoot the cap by 3: SwiftNIO accepts up to 4 connections per read of the \
                        listening socket before the cap is consulted again. The listen queue holds up to 256 \
                        connections, taken as others close. The open-file limit `serve` wants is this cap plus the \
                        database pools and 64 spare descriptors; when the hard limit does not allow it, `serve` \
                        accepts as many connections as fit and logs a warning naming the limit.
                        """),
            ]),
        SettingGroup(
            "Ingestion",
            [
                .integer(
                    "OBSERVABILITY_MAX_BODY_BYTES", \.maxBodyBytes, in: 1_024...(1 << 30), .bytes,
                    summary: "The largest request body accepted, measured after gzip decompression; larger bodies get 413.",
                    details: "The compressed body is held to the same limit. Memory use per request grows with it."),
                .number(
                    "OBSERVABILITY_SAMPLE_RATE", \.sampleRate, in: 0...1,
                    summary: """
                        The share of traces kept, decided from the trace id: every span of a trace gets the same \
                        answer, in every request and on every replica.
                        """,
                    details: """
                        `0` keeps nothing (requests still succeed). Self-tracing decides each of its own traces the \
                        same way, when the trace starts, so an unsampled request records nothing.
                        """),
                .patterns(
                    "OBSERVABILITY_EXCLUDE_PATHS", \.excludePaths,
                    summary: """
                        An HTTP server span whose path matches one of these patterns as a whole is dropped with its \
                        whole trace. Empty: exclude nothing.
                        """,
                    details: """
                        Each pattern is used as `^(?:pattern)$`, so alternatives and lazy quantifiers need no \
                        anchors. Self-tracing leaves a request to a matching path no span at all, not even its DB \
                        spans. See [ingestion.md](ingestion.md#sampling-and-exclusion).
                        """),
                .flag(
                    "OBSERVABILITY_EVENTS_ENABLED", \.eventsEnabled,
                    summary: "`false` drops span events at ingest, exception events included.",
                    details: "A failed span's message then cannot come from its exception. Self-spans lose theirs too."),
                .integer(
                    "OBSERVABILITY_MAX_ATTRIBUTE_LENGTH", \.maxAttributeLength, in: 64...1_048_576,
                    summary: """
                        Longer strings are cut to this many characters and marked `…[truncated N chars]`; bytes \
                        values are cut to this many bytes.
                        """,
                    details: """
                        Applies to attribute keys and values (nested ones too), span and event names, service and \
                        scope names, targets and status messages. See [redaction.md](redaction.md#truncation).
                        """),
            ]),
        SettingGroup(
            "Span writer",
            intro: "How these interact is described in [ingestion.md](ingestion.md#durability-the-span-writer).",
            rules: [
                SettingRule(\.batchMaxSpans, "at most `\(key(for: \.writerQueueSpans))`") { configuration in
                    guard configuration.batchMaxSpans > configuration.writerQueueSpans else { return nil }
                    return
                        "\(key(for: \.batchMaxSpans)) (\(configuration.batchMaxSpans)) must not exceed \(key(for: \.writerQueueSpans)) (\(configuration.writerQueueSpans))"
                }
            ],
            [
                .integer(
                    "OBSERVABILITY_WRITER_QUEUE_SPANS", \.writerQueueSpans, in: 1_000...10_000_000,
                    summary: """
                        Spans accepted but not yet committed, at most; a request that would go beyond it is answered \
                        429 with `Retry-After: 1`.
                        """,
                    details: """
                        A single request larger than the whole queue is still taken when the queue is empty. Memory \
                        use grows with it.
                        """),
                .integer(
                    "OBSERVABILITY_BATCH_MAX_SPANS", \.batchMaxSpans, in: 1...100_000,
                    summary: "Spans per database round trip (one `ingest_spans()` call), at most.",
                    details: "Requests are not split: one request larger than this is written as one batch."),
                .integer(
                    "OBSERVABILITY_BATCH_MAX_WAIT_MS", \.batchMaxWaitMilliseconds, in: 0...10_000, .milliseconds,
                    summary: "How long a writer waits for more spans once it has some and the batch is not full.",
                    details: """
                        Adds up to this much latency to each ingest request at low load; buys larger batches at high \
                        load. `0`: write at once.
                        """),
                .integer(
                    "OBSERVABILITY_WRITER_CONNECTIONS", \.writerConnections, in: 1...64,
                    summary: "Database connections of the span writer, which is also how many batches are written at once.",
                    details: "Separate from the query connections, so ingestion never starves the dashboards."),
            ]),
        SettingGroup(
            "Self-tracing",
            [
                .flag(
                    "OBSERVABILITY_ENABLED", \.enabled, fromContextForge: true,
                    summary: """
                        The service stores its own HTTP requests, the dashboards' and maintenance's database queries \
                        and each maintenance run as traces of service `mcp-observatory`. Sampling, excluded paths \
                        and events follow the ingestion settings.
                        """,
                    details: "They go through the same pipeline as a client's spans. `false`: no self-span at all."),
                .flag(
                    "OBSERVABILITY_TRACE_HTTP_REQUESTS", \.traceHTTPRequests, fromContextForge: true,
                    summary: "Self-tracing includes a server span per HTTP request, parent of that request's DB spans.",
                    details: "`false`: no HTTP spans; DB spans become the roots of their own traces."),
                .flag(
                    "OBSERVABILITY_TRACE_INGEST_REQUESTS", \.traceIngestRequests,
                    summary: """
                        Self-tracing includes ingestion requests (`POST /v1/traces`, `POST /api/v1/spans`) and the \
                        writer's inserts for them.
                        """,
                    details: """
                        Off by default: every export of every client would otherwise leave a trace of its own (twenty \
                        exporters flushing every 5 s make 345,600 a day). Answers of ingestion are counted in \
                        `/metrics` either way.
                        """),
            ]),
        SettingGroup(
            "Retention",
            [
                .integer(
                    "OBSERVABILITY_TRACE_RETENTION_DAYS", \.retentionDays, in: 1...365, .days, fromContextForge: true,
                    summary: "Days of spans kept, enforced every cleanup interval.",
                    details: """
                        Each cleanup run drops the daily partitions wholly older than that and deletes the older \
                        rows left in the partition that straddles the cutoff (`apply_retention()`).
                        """),
                .integer(
                    "OBSERVABILITY_MAX_TRACES", \.maxTraces, in: 1...1_000_000_000, fromContextForge: true,
                    summary: "Traces kept at most, oldest first, enforced every cleanup interval.",
                    details: """
                        Each cleanup run deletes the oldest traces, with all their spans, until this many remain. \
                        Between runs the count can exceed it by what arrives in one cleanup interval. The service's \
                        own traces do not count: they have their own bound, `OBSERVABILITY_MAX_SELF_TRACES`.
                        """),
                .integer(
                    "OBSERVABILITY_MAX_SELF_TRACES", \.maxSelfTraces, in: 0...1_000_000_000,
                    summary: "The service's own traces (service `mcp-observatory`) kept at most, oldest first.",
                    details: """
                        Enforced with retention, apart from `OBSERVABILITY_MAX_TRACES`, so the service's own traces \
                        never evict users' traces. `0` keeps none past each cleanup run.
                        """),
                .duration(
                    "OBSERVABILITY_CLEANUP_INTERVAL", \.cleanupIntervalSeconds, in: 1...604_800, fromContextForge: true,
                    summary: "How often partitions are created ahead and retention applied.",
                    details: """
                        With several replicas, exactly one runs each job per interval (see \
                        [operations.md](operations.md)).
                        """),
            ]),
        SettingGroup(
            "Metrics",
            [
                .flag(
                    "OBSERVABILITY_METRICS_ENABLED", \.metricsEnabled, fromContextForge: true,
                    summary: """
                        Metric views are refreshed and shown; `false` stops the refresh and turns the metric pages \
                        into a notice (trace pages keep working).
                        """,
                    details: """
                        With `false`, `serve` never refreshes the metric views, the summary, tools, prompts and \
                        resources pages say metrics are turned off, and their JSON twins answer 404.
                        """),
                .integer(
                    "OBSERVABILITY_METRICS_REFRESH_SECONDS", \.metricsRefreshSeconds, in: 5...3_600, .seconds,
                    summary: """
                        How often `serve` rolls up new minutes and refreshes the metric views that are due. Each \
                        window has its own cadence in `observability.metric_windows`.
                        """,
                    details: """
                        The rollup is the `rollup` job, run by one replica per interval. Each window's view is \
                        refreshed by `refresh_metrics()` when its own cadence has passed (1h every minute, 24h every \
                        5 minutes, 7d and 30d hourly); `serve` checks the cadences at a quarter of this interval, at \
                        most every minute. See [sql.md](sql.md) for the freshness contract.
                        """),
                .integer(
                    "OBSERVABILITY_CALL_SETTLE_SECONDS", \.callSettleSeconds, in: 0...3_600, .seconds,
                    summary: """
                        How long a trace must have been quiet (no new span) before its MCP calls are assembled.
                        """,
                    details: """
                        The spans of one request come from several processes, each exporting on its own schedule; \
                        assembly waits this long so both sides are there. A span arriving later makes its trace \
                        assembled again. Calls are assembled at each poll of the metric refresh \
                        (`assemble_calls()`, see [sql.md](sql.md#calls)).
                        """),
            ]),
        SettingGroup(
            "Dashboards",
            [
                .integer(
                    "OBSERVABILITY_DASHBOARD_REFRESH_SECONDS", \.dashboardRefreshSeconds, in: 1...3_600, .seconds,
                    summary: "The interval of the dashboards' auto-refresh toggle."),
                .text(
                    "OBSERVABILITY_CHARTJS_PATH", \.chartJSPath, format: "a file",
                    summary: """
                        Chart.js 3, served to the dashboards at `/static/vendor/chart.min.js` (Debian: `apt-get \
                        install libjs-chart.js`). Missing file: the pages show their tables without charts.
                        """,
                    details: "They say so where each chart would be, and `serve` logs a warning."),
            ]),
        SettingGroup(
            "Process",
            [
                .choice(
                    "OBSERVABILITY_LOG_LEVEL", \.logLevel,
                    among: ["trace", "debug", "info", "notice", "warning", "error", "critical"],
                    summary: "The least severe level logged. Logs go to stderr."),
                .optionalText(
                    "OBSERVABILITY_MIGRATIONS_DIR", \.migrationsDirectory, format: "a directory",
                    summary: """
                        Development only: read migrations from this folder instead of the ones compiled into the \
                        binary.
                        """),
            ]),
    ]

    /// Every setting, in table order.
    public static var settings: [Setting] { settingGroups.flatMap(\.settings) }

    /// The table's entry for a property.
    public static func setting(for property: PartialKeyPath<ObservatoryConfiguration>) -> Setting {
        guard let setting = settings.first(where: { $0.property == property }) else {
            preconditionFailure("\(property) has no entry in ObservatoryConfiguration.settingGroups")
        }
        return setting
    }

    /// The environment variable of a property, for messages that name another setting.
    public static func key(for property: PartialKeyPath<ObservatoryConfiguration>) -> String {
        setting(for: property).key
    }
}

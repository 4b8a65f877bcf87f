import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ObservatoryConfiguration
import ObservatoryIngest
import ObservatoryMigrations
import ObservatoryStore
import ServiceLifecycle

/// Everything the HTTP application serves; ``buildApplication(configuration:migrations:logger:options:)``
/// fills it.
struct ObservatoryRoutes: Sendable {
    var ingest: IngestController
    var health: HealthController
    var dashboard: DashboardController
    var api: DashboardAPIController
    var assets: StaticController
    /// `/metrics`; nil when the application has no Prometheus registry (tests).
    var prometheus: PrometheusController?
    /// HTTP Basic credentials for /admin and the read API; nil leaves them open.
    var adminCredentials: (user: String, password: String)?
    /// Self-tracing of HTTP requests; nil when `OBSERVABILITY_ENABLED` is false.
    var selfTracing: SelfTracingSettings?
    /// `OBSERVABILITY_METRICS_PUBLIC`: `/metrics` without the admin credentials.
    var metricsPublic: Bool
    /// The standby the dashboards and the read API read from; nil when they read from the primary.
    var replica: ReplicaStore? = nil
}

/// The router: middleware in the order every request meets it, then each controller's routes.
func buildRouter(routes: ObservatoryRoutes, server: HTTPServerSettings, logger: Logger) -> Router<ObservatoryRequestContext> {
    let router = Router(context: ObservatoryRequestContext.self)
    // Before any route, so every request passes through them: the security headers
    // outermost, so every answer has them; a foreign Host refused before anything is
    // traced; exclusion before tracing, so an excluded path's span is never started.
    router.add(middleware: SecurityHeadersMiddleware())
    if !server.allowedHosts.isEmpty {
        router.add(middleware: AllowedHostsMiddleware(hosts: server.allowedHosts))
    }
    if let selfTracing = routes.selfTracing {
        let ingestPaths: Set = [IngestController.otlpPath, IngestController.nativePath]
        router.add(
            middleware: SelfTracingExclusionMiddleware(
                policy: selfTracing.policy, untracedPaths: selfTracing.traceIngestRequests ? [] : ingestPaths))
        if selfTracing.traceHTTPRequests { router.add(middleware: TracingMiddleware()) }
    }
    routes.ingest.addRoutes(to: router)
    routes.health.addRoutes(to: router)
    routes.assets.addRoutes(to: router)
    let auth = routes.adminCredentials.map {
        BasicAuthMiddleware<ObservatoryRequestContext>(user: $0.user, password: $0.password)
    }
    if let prometheus = routes.prometheus {
        // /metrics names every target clients reported: it follows the dashboards'
        // credentials unless OBSERVABILITY_METRICS_PUBLIC says a scraper may read it freely.
        let scrape = router.group()
        if let auth, !routes.metricsPublic { scrape.add(middleware: auth) }
        prometheus.addRoutes(to: scrape)
    }
    let admin = router.group("admin").add(middleware: ServerTimingMiddleware())
    if let auth { admin.add(middleware: auth) }
    // After the credentials: a stranger's request never reaches the standby.
    if let replica = routes.replica {
        let dashboard = routes.dashboard
        admin.add(middleware: ReadReplicaMiddleware(store: replica, logger: logger) { dashboard.failurePage($0) })
    }
    routes.dashboard.addRoutes(to: admin)
    // Only the read routes: POST /api/v1/spans is ingestion, with its own token.
    let reads = router.group("api/v1").add(middleware: ServerTimingMiddleware())
    if let auth { reads.add(middleware: auth) }
    if let replica = routes.replica {
        reads.add(middleware: ReadReplicaMiddleware(store: replica, logger: logger) { DashboardAPIController.answer($0) })
    }
    routes.api.addRoutes(to: reads)
    router.get("/") { _, _ in
        Response.redirect(to: "/admin/observability/metrics")
    }
    return router
}

/// The Hummingbird application around `router`. `services` run beside the server in its
/// service group and are shut down after it, in reverse order: the server stops taking
/// requests and finishes the ones in flight before the span writer drains and the database
/// clients close. `server` bounds connections (timeouts, a cap) and the hosts answered.
func makeApplication(
    router: Router<ObservatoryRequestContext>, host: String, port: Int, server: HTTPServerSettings, services: [any Service],
    logger: Logger
) -> Application<RouterResponder<ObservatoryRequestContext>> {
    let bodyTimeout = server.bodyTimeout.map { TimeAmount($0) }
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: bodyTimeout.map { [BodyReadTimeoutHandler(timeout: $0)] } ?? [],
                idleTimeout: server.idleTimeout.map { TimeAmount($0) })),
        configuration: .init(
            address: .hostname(host, port: port), serverName: "mcp-observatory",
            availableConnectionsDelegate: server.maxConnections.map { MaximumAvailableConnections($0, logger: logger) }),
        services: services,
        logger: logger)
}

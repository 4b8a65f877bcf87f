import Hummingbird
import Logging
import ObservatoryConfiguration
import ObservatoryIngest
import ObservatoryMigrations
import ServiceLifecycle

/// Everything the HTTP application serves, assembled in one place so `serve` and the tests
/// build the same thing.
public struct ObservatoryRoutes: Sendable {
    public var ingest: IngestController
    public var health: HealthController
    public var dashboard: DashboardController?
    public var api: DashboardAPIController?
    public var assets: StaticController
    /// `/metrics`; nil when the process has no Prometheus registry (tests).
    public var prometheus: PrometheusController?
    /// HTTP Basic credentials for /admin and the read API; nil leaves them open.
    public var adminCredentials: (user: String, password: String)?
    /// Self-tracing of HTTP requests; nil when `OBSERVABILITY_ENABLED` is false.
    public var selfTracing: SelfTracingSettings?

    public init(
        ingest: IngestController, health: HealthController, dashboard: DashboardController? = nil,
        api: DashboardAPIController? = nil, assets: StaticController = StaticController(),
        prometheus: PrometheusController? = nil, adminCredentials: (user: String, password: String)? = nil,
        selfTracing: SelfTracingSettings? = nil
    ) {
        self.ingest = ingest
        self.health = health
        self.dashboard = dashboard
        self.api = api
        self.assets = assets
        self.prometheus = prometheus
        self.adminCredentials = adminCredentials
        self.selfTracing = selfTracing
    }
}

/// The Hummingbird application. `services` run beside the server in its service group and
/// are shut down after it, in reverse order: the server stops taking requests and finishes
/// the ones in flight before the span writer drains and the database clients close.
public func buildApplication(
    routes: ObservatoryRoutes, host: String, port: Int, services: [any Service], logger: Logger
) -> some ApplicationProtocol {
    let router = Router(context: ObservatoryRequestContext.self)
    // Before any route, so every request passes through them: exclusion first, so an
    // excluded path's span is never started.
    if let selfTracing = routes.selfTracing {
        router.add(middleware: SelfTracingExclusionMiddleware(policy: selfTracing.policy))
        if selfTracing.traceHTTPRequests { router.add(middleware: TracingMiddleware()) }
    }
    routes.ingest.addRoutes(to: router)
    routes.health.addRoutes(to: router)
    routes.prometheus?.addRoutes(to: router)
    routes.assets.addRoutes(to: router)
    let auth = routes.adminCredentials.map {
        BasicAuthMiddleware<ObservatoryRequestContext>(user: $0.user, password: $0.password)
    }
    if let dashboard = routes.dashboard {
        let admin = router.group("admin").add(middleware: ServerTimingMiddleware())
        if let auth { admin.add(middleware: auth) }
        dashboard.addRoutes(to: admin)
    }
    if let api = routes.api {
        // Only the read routes: POST /api/v1/spans is ingestion, with its own token.
        let reads = router.group("api/v1").add(middleware: ServerTimingMiddleware())
        if let auth { reads.add(middleware: auth) }
        api.addRoutes(to: reads)
    }
    router.get("/") { _, _ in
        Response.redirect(to: "/admin/observability/metrics")
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "mcp-observatory"),
        services: services,
        logger: logger)
}

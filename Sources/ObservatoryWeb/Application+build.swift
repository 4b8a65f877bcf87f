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

    public init(ingest: IngestController, health: HealthController) {
        self.ingest = ingest
        self.health = health
    }
}

/// The Hummingbird application. `services` run beside the server in its service group and
/// are shut down after it, in reverse order: the server stops taking requests and finishes
/// the ones in flight before the span writer drains and the database clients close.
public func buildApplication(
    routes: ObservatoryRoutes, host: String, port: Int, services: [any Service], logger: Logger
) -> some ApplicationProtocol {
    let router = Router(context: BasicRequestContext.self)
    routes.ingest.addRoutes(to: router)
    routes.health.addRoutes(to: router)
    router.get("/") { _, _ in
        NativeAnswer.json(
            ["service": "MCP Observatory", "ingest": "POST /v1/traces (OTLP/HTTP), POST /api/v1/spans (JSON)", "health": "/healthz, /readyz"],
            status: .ok)
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "mcp-observatory"),
        services: services,
        logger: logger)
}

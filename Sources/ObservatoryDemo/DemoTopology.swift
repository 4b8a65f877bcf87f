import ObservatoryOTLP

/// The processes and instrumentation libraries that emit demo spans: gateway
/// replicas and tool-server replicas, so one trace crosses services and a
/// request carries several resources and scopes, as a collector's would.
enum DemoTopology {
    static let gatewayVersion = "1.4.2"
    static let toolsVersion = "0.9.7"

    static let resources: [Opentelemetry_Proto_Resource_V1_Resource] =
        (0..<3).map { resource(service: "mcp-gateway", version: gatewayVersion, host: "mcp-gateway-7d9f4-\($0)") }
        + (0..<2).map { resource(service: "mcp-tools", version: toolsVersion, host: "mcp-tools-5c8b2-\($0)") }

    /// Indexes into `resources`.
    static let gatewayResources = 0...2
    static let toolsResources = 3...4

    /// Indexes into `scopes`.
    enum Scope: Int, CaseIterable {
        case gateway, database, http
    }

    static let scopes: [Opentelemetry_Proto_Common_V1_InstrumentationScope] = Scope.allCases.map { scope in
        var value = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        switch scope {
        case .gateway:
            value.name = "mcp-gateway"
            value.version = gatewayVersion
        case .database:
            value.name = "opentelemetry.instrumentation.asyncpg"
            value.version = "0.48b0"
        case .http:
            value.name = "opentelemetry.instrumentation.httpx"
            value.version = "0.48b0"
        }
        return value
    }

    private static func resource(service: String, version: String, host: String) -> Opentelemetry_Proto_Resource_V1_Resource {
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        resource.attributes = [
            .string("service.name", service),
            .string("service.version", version),
            .string("deployment.environment.name", "production"),
            .string("telemetry.sdk.name", "observatory-demo"),
            .string("telemetry.sdk.version", "1.0.0"),
            .string("host.name", host),
        ]
        return resource
    }
}

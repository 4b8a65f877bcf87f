import ArgumentParser

/// The `observatory` command. Lives in a file not named `main.swift`: with `@main` there,
/// the command would compile and then silently do nothing.
@main
struct Observatory: AsyncParsableCommand {
    /// This build's version: `--version`, and `service.version` on self-traced spans.
    static let version = "0.4.0"

    static let configuration = CommandConfiguration(
        commandName: "observatory",
        abstract: "MCP Observatory: performance monitoring and trace analytics for MCP gateways and servers.",
        discussion: """
            Settings come from environment variables (OBSERVABILITY_*); see docs/configuration.md \
            and .env.example. The database is OBSERVABILITY_DATABASE_URL (or DATABASE_URL).

            Typical use: `observatory migrate`, then `observatory serve`, then point an OpenTelemetry \
            exporter at http://HOST:4318/v1/traces.
            """,
        version: version,
        subcommands: [ServeCommand.self, MigrateCommand.self, MaintenanceCommand.self, DemoCommand.self]
    )
}

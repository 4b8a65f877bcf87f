import ArgumentParser
import Hummingbird
import ObservatoryStartup
import ObservatoryWeb

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
        var (configuration, _, logger, migrations) = try Runtime.databaseCommand().parts
        configuration.httpMaxConnections = OpenFileLimit.connectionsThatFit(configuration, logger: logger)
        do {
            let app = try buildApplication(
                configuration: configuration, migrations: migrations, logger: logger,
                options: .init(
                    metricsRegistry: PrometheusMetrics.bootstrap(), bootstrapsTracing: true, version: Observatory.version))
            try await app.runService()
        } catch let failure as ApplicationFailure {
            Runtime.printError("error: \(failure)")
            throw ExitCode.failure
        }
    }
}

import Logging
import ServiceLifecycle

/// Assembles MCP calls on its own when the metric refresh does not run
/// (`OBSERVABILITY_METRICS_ENABLED=false`): the trace pages' calls and the session pages
/// read them whether or not metrics are kept. With metrics on, ``MetricsRefresher``
/// assembles at each of its polls instead, just before the rollup that counts them.
public struct CallAssembler: Service {
    let runner: MaintenanceRunner
    let interval: Duration
    let logger: Logger

    public init(runner: MaintenanceRunner, interval: Duration, logger: Logger) {
        self.runner = runner
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await repeatEvery(pollInterval(for: interval)) { await runner.assembleCalls() }
        }
    }
}

import Logging
import ObservatoryStore
import ServiceLifecycle

/// Keeps the metric views fresh while `serve` runs. The short windows (1h, 24h) and the
/// long ones (7d, 30d, tens of seconds at millions of spans) run in two loops, so a long
/// refresh never holds back the 1-hour figures. Each loop polls several times per
/// `interval`; the rollup of new minutes is claimed by one replica per interval
/// (`claim_maintenance_job`), and each window is refreshed by `refresh_metrics()` only
/// when its own cadence (table `metric_windows`) has passed, under that window's
/// advisory lock, so with several replicas each refresh still happens once. Each poll
/// of the short loop first assembles the MCP calls that settled (`assemble_calls()`,
/// advisory-locked too).
public struct MetricsRefresher: Service {
    let runner: MaintenanceRunner
    let interval: Duration
    let logger: Logger

    public init(runner: MaintenanceRunner, interval: Duration = .seconds(60), logger: Logger) {
        self.runner = runner
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await repeatEvery(pollInterval(for: interval)) {
                        // Calls first, so the rollup and the views count the requests
                        // that settled since the last poll.
                        await runner.assembleCalls()
                        if await runner.claim("rollup", every: claimInterval(for: interval)) {
                            await runner.rollup()
                        }
                        await runner.refresh([.hour, .day])
                    }
                }
                group.addTask {
                    await repeatEvery(pollInterval(for: interval)) { await runner.refresh([.week, .month]) }
                }
            }
        }
    }
}

import Logging
import ObservatoryStore
import ServiceLifecycle

/// Keeps the metric views fresh while `serve` runs. Every `interval` it rolls up the new
/// minutes and asks `refresh_metrics()` (migrations/0007) for each window in turn, each
/// call its own transaction; the SQL refreshes a window only when its own cadence has
/// passed. The short windows (1h, 24h) and the long ones (7d, 30d, tens of seconds at
/// millions of spans) run in two loops, so a long refresh never holds back the 1-hour
/// figures. Every step is advisory-locked in SQL, so with several replicas one does the
/// work and the others return at once.
public struct MetricsRefresher: Service {
    let metrics: MetricsStore
    let interval: Duration
    let logger: Logger

    public init(metrics: MetricsStore, interval: Duration = .seconds(60), logger: Logger) {
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await repeatEvery(interval) { await runOnce(windows: [.hour, .day], rollup: true) } }
                group.addTask { await repeatEvery(interval) { await runOnce(windows: [.week, .month], rollup: false) } }
            }
        }
    }

    func runOnce(windows: [MetricWindow], rollup: Bool) async {
        do {
            if rollup { try await metrics.rollup() }
            for window in windows {
                for outcome in try await metrics.refresh(windows: [window], rollup: false) where outcome.refreshed {
                    logger.info(
                        "refreshed metric view",
                        metadata: ["window": "\(outcome.window)", "duration_ms": "\(Int(outcome.durationMs ?? 0))"])
                }
            }
        } catch {
            logger.warning("could not refresh metric views; will retry", metadata: ["error": "\(error)"])
        }
    }
}

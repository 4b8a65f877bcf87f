import Logging
import ObservatoryStore
import ServiceLifecycle

/// Keeps the metric views fresh while `serve` runs: every `interval` it calls
/// `refresh_metrics()`, which rolls up the new minutes and refreshes each window whose
/// cadence has passed (migrations/0007). The SQL is advisory-locked, so with several
/// replicas one of them does the work and the others return at once.
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
            while !Task.isCancelled {
                await runOnce()
                try? await Task.sleep(for: interval)
            }
        }
    }

    func runOnce() async {
        do {
            let outcome = try await metrics.refresh()
            let refreshed = outcome.filter(\.refreshed)
            guard !refreshed.isEmpty else { return }
            logger.info(
                "refreshed metric views",
                metadata: [
                    "windows": "\(refreshed.map(\.window).joined(separator: ","))",
                    "duration_ms": "\(refreshed.map { String(Int($0.durationMs ?? 0)) }.joined(separator: ","))",
                ])
        } catch {
            logger.warning("could not refresh metric views; will retry", metadata: ["error": "\(error)"])
        }
    }
}

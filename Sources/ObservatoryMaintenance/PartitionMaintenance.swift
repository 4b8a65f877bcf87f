import Logging
import ObservatoryStore
import ServiceLifecycle

/// Keeps daily span partitions created ahead of time while `serve` runs, so spans never
/// pile up in the default partition. Runs at start and then every `interval`; the SQL
/// function is advisory-locked, so several replicas doing this at once is harmless.
public struct PartitionMaintenance: Service {
    let partitions: PartitionStore
    let interval: Duration
    let logger: Logger

    public init(partitions: PartitionStore, interval: Duration = .seconds(3600), logger: Logger) {
        self.partitions = partitions
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await repeatEvery(interval) { await runOnce() }
        }
    }

    func runOnce() async {
        do {
            let created = try await partitions.ensurePartitions()
            if !created.isEmpty {
                logger.info(
                    "created span partitions",
                    metadata: [
                        "partitions": "\(created.map(\.name).joined(separator: ","))",
                        "rows_moved": "\(created.reduce(0) { $0 + $1.rowsMoved })",
                    ])
            }
        } catch {
            logger.warning("could not ensure span partitions; will retry", metadata: ["error": "\(error)"])
        }
    }
}

import Logging
import ServiceLifecycle

/// Partitions ahead, retention and the compaction of closed days while `serve` runs, every `OBSERVABILITY_CLEANUP_INTERVAL`.
///
/// Every replica polls several times per interval and asks the database for the job
/// (`claim_maintenance_job`); the first to ask once the interval has passed gets it, the
/// others hear "no". So each job runs once per interval whatever the number of replicas,
/// and when the replica that ran it last stops, another one takes it at its next poll.
public struct CleanupService: Service {
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
            await repeatEvery(pollInterval(for: interval)) {
                if await runner.claim("partitions", every: claimInterval(for: interval)) {
                    await runner.ensurePartitions()
                }
                if await runner.claim("retention", every: claimInterval(for: interval)) {
                    await runner.applyRetention()
                }
                if await runner.claim("compaction", every: claimInterval(for: interval)) {
                    await runner.compactPartitions()
                }
            }
        }
    }
}

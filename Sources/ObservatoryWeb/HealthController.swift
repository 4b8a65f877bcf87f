import Foundation
import Hummingbird
import Logging
import ObservatoryMigrations
import ObservatoryStore
import PostgresNIO

/// `/healthz`: the process answers. `/readyz`: it can do its work, i.e. the database is
/// reachable and its schema is the one this build expects. Load balancers route on the
/// second; orchestrators restart on the first.
public struct HealthController: Sendable {
    let migrations: MigrationRunner

    public init(migrations: MigrationRunner) {
        self.migrations = migrations
    }

    public func addRoutes(to router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in
            NativeAnswer.json(["status": "ok"], status: .ok)
        }
        router.get("/readyz") { _, _ in
            await readiness()
        }
    }

    func readiness() async -> Response {
        do {
            try await Deadline.run(
                within: .seconds(3), expired: MigrationRunner.Failure.database(.unavailable("no answer within 3 s"))
            ) {
                try await migrations.requireCurrent()
            }
            return NativeAnswer.json(["status": "ready"], status: .ok)
        } catch {
            let reason: String
            switch error as? MigrationRunner.Failure {
            case .database(let failure)?: reason = failure.clientDescription
            case let failure?: reason = failure.description
            case nil: reason = "not ready"
            }
            return NativeAnswer.json(["status": "not ready", "reason": reason], status: .serviceUnavailable)
        }
    }
}

import Logging
import ObservatoryStore
import PostgresNIO

/// Applies the versioned SQL files to a database.
///
/// Safe to run twice and from several processes at once: the whole run holds a session
/// advisory lock, so a second runner waits, then finds nothing left to do. Each file runs
/// in its own transaction together with the row that records it, so a failing file leaves
/// no trace and the versions before it stay applied.
public struct MigrationRunner: Sendable {
    public let client: PostgresClient
    public let migrations: [Migration]
    let logger: Logger

    /// Key of the advisory lock that serialises runners (any constant unique to us).
    static let lockKey: Int64 = 0x0b5e_7a70_0001

    public init(client: PostgresClient, migrations: [Migration], logger: Logger) {
        self.client = client
        self.migrations = migrations
        self.logger = logger
    }

    /// Where a migration stands in the database.
    public enum State: String, Sendable, Equatable {
        case applied, pending
        /// Applied, but the file changed since.
        case changed
    }

    public struct Entry: Sendable, Equatable {
        public var version: Int
        public var identifier: String
        public var state: State
    }

    public enum Failure: Error, CustomStringConvertible {
        case changed([String])
        case unknownVersions([Int])
        case behind(pending: [String])
        case failed(migration: String, message: String)
        case database(DatabaseError)

        public var description: String {
            switch self {
            case .changed(let names):
                "migrations changed after they were applied: \(names.joined(separator: ", ")). Applied migrations are never edited; add a new one instead."
            case .unknownVersions(let versions):
                "the database has migrations this build does not know (versions \(versions.map(String.init).joined(separator: ", "))); run a newer observatory"
            case .behind(let pending):
                "the database schema is behind: \(pending.count) migration(s) pending (\(pending.joined(separator: ", "))). Run `observatory migrate` first."
            case .failed(let migration, let message):
                "migration \(migration) failed and was rolled back: \(message)"
            case .database(let error):
                error.description
            }
        }
    }

    /// Every known migration with its state, plus versions the database has that we do not.
    public func status() async throws(Failure) -> (entries: [Entry], unknown: [Int]) {
        let applied = try await appliedChecksums()
        let entries = migrations.map { migration in
            let state: State
            switch applied[migration.version] {
            case nil: state = .pending
            case migration.checksum: state = .applied
            default: state = .changed
            }
            return Entry(version: migration.version, identifier: migration.identifier, state: state)
        }
        let known = Set(migrations.map(\.version))
        return (entries, applied.keys.filter { !known.contains($0) }.sorted())
    }

    /// Throws unless every migration is applied unchanged: what `serve` checks before it starts.
    public func requireCurrent() async throws(Failure) {
        let (entries, unknown) = try await status()
        let changed = entries.filter { $0.state == .changed }.map(\.identifier)
        if !changed.isEmpty { throw .changed(changed) }
        if !unknown.isEmpty { throw .unknownVersions(unknown) }
        let pending = entries.filter { $0.state == .pending }.map(\.identifier)
        if !pending.isEmpty { throw .behind(pending: pending) }
    }

    /// Applies the pending migrations in order and returns them. With `dryRun`, applies
    /// nothing and returns what would be applied.
    @discardableResult
    public func migrate(dryRun: Bool = false) async throws(Failure) -> [Migration] {
        do {
            return try await client.withConnection { connection in
                // A session lock, released on every path: the connection goes back to the pool.
                _ = try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
                do {
                    let result = try await migrateLocked(dryRun: dryRun, on: connection)
                    _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                    throw error
                }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .database(DatabaseError(error))
        }
    }

    private func migrateLocked(dryRun: Bool, on connection: PostgresConnection) async throws -> [Migration] {
        // A dry run writes nothing, not even the bookkeeping table.
        if !dryRun { try await bootstrap(on: connection) }
        let applied = try await appliedChecksums(on: connection)
        let changed = migrations.filter { migration in applied[migration.version].map { $0 != migration.checksum } ?? false }
        if !changed.isEmpty { throw Failure.changed(changed.map(\.identifier)) }
        let pending = migrations.filter { applied[$0.version] == nil }
        if dryRun { return pending }
        for migration in pending {
            try await apply(migration, on: connection)
        }
        return pending
    }

    private func apply(_ migration: Migration, on connection: PostgresConnection) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        _ = try await connection.query("BEGIN", logger: logger)
        do {
            for statement in SQLStatementSplitter.split(migration.sql) {
                // Read to the end: an error raised while rows stream must fail the file here.
                _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
            }
            let elapsed = clock.now - started
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            _ = try await connection.query(
                """
                INSERT INTO observability.schema_migrations (version, name, checksum, execution_ms)
                VALUES (\(migration.version), \(migration.name), \(migration.checksum), \(milliseconds))
                """, logger: logger)
            _ = try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            let message = (error as? PSQLError)?.serverInfo?[.message] ?? String(describing: error)
            throw Failure.failed(migration: migration.identifier, message: message)
        }
        logger.info("applied migration", metadata: ["migration": "\(migration.identifier)"])
    }

    /// The bookkeeping table, created before the first migration.
    private func bootstrap(on connection: PostgresConnection) async throws {
        _ = try await connection.query("CREATE SCHEMA IF NOT EXISTS observability", logger: logger)
        _ = try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS observability.schema_migrations (
                version      integer PRIMARY KEY,
                name         text NOT NULL,
                checksum     text NOT NULL,
                applied_at   timestamptz NOT NULL DEFAULT now(),
                execution_ms double precision NOT NULL
            )
            """, logger: logger)
    }

    private func appliedChecksums() async throws(Failure) -> [Int: String] {
        do {
            return try await client.withConnection { connection in try await appliedChecksums(on: connection) }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .database(DatabaseError(error))
        }
    }

    /// Version → checksum of every applied migration; empty when nothing was ever applied.
    private func appliedChecksums(on connection: PostgresConnection) async throws -> [Int: String] {
        let exists = try await connection.query(
            "SELECT to_regclass('observability.schema_migrations') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return [:] }
        let rows = try await connection.query(
            "SELECT version, checksum FROM observability.schema_migrations", logger: logger)
        var applied: [Int: String] = [:]
        for try await (version, checksum) in rows.decode((Int, String).self) {
            applied[version] = checksum
        }
        return applied
    }
}

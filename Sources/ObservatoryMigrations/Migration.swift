import Crypto
import Foundation

/// One versioned SQL file, `migrations/NNNN_verb_object.sql`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String
    /// SHA-256 of the file's bytes, hex. A file whose checksum changed after it was
    /// applied is refused: migrations are forward-only and never edited once landed.
    public var checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// `0001_create_spans`, the file name without `.sql`.
    public var identifier: String { String(format: "%04d_%@", version, name) }
}

/// Where the migrations come from: the ones compiled into this binary, or, for development
/// only, a folder named by `OBSERVABILITY_MIGRATIONS_DIR`.
public enum MigrationSource {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// The migrations this build was compiled with (`migrations/*.sql`, embedded by the
    /// package manifest), so a binary can never run another build's SQL. `override`, when
    /// given, reads a folder instead: for testing an upgrade from an older schema.
    public static func load(override: String?) throws(Problem) -> [Migration] {
        guard let override else { return try compiledIn() }
        let url = URL(fileURLWithPath: override)
        guard containsMigrations(url) else {
            throw Problem(description: "OBSERVABILITY_MIGRATIONS_DIR \(override) holds no NNNN_name.sql files")
        }
        return try load(from: url)
    }

    /// The embedded files, parsed and checked like a folder's.
    public static func compiledIn() throws(Problem) -> [Migration] {
        try parse(EmbeddedMigrations.files.map { (file: $0.file, bytes: $0.bytes) })
    }

    /// Every `NNNN_name.sql` in `directory`, ordered by version.
    public static func load(from directory: URL) throws(Problem) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw Problem(description: "cannot read \(directory.path): \(error.localizedDescription)")
        }
        var files: [(file: String, bytes: [UInt8])] = []
        for file in names where file.hasSuffix(".sql") {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path) else {
                throw Problem(description: "\(file): cannot be read")
            }
            files.append((file, Array(data)))
        }
        return try parse(files)
    }

    /// Named `NNNN_verb_object.sql`, UTF-8, one file per version; ordered by version.
    static func parse(_ files: [(file: String, bytes: [UInt8])]) throws(Problem) -> [Migration] {
        var migrations: [Migration] = []
        for (file, bytes) in files {
            let stem = String(file.dropLast(4))
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard file.hasSuffix(".sql"), parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0 else {
                throw Problem(description: "\(file): migration files are named NNNN_verb_object.sql")
            }
            guard let sql = String(validating: bytes, as: UTF8.self) else {
                throw Problem(description: "\(file): cannot be read as UTF-8")
            }
            if let twin = migrations.first(where: { $0.version == version }) {
                throw Problem(description: "\(file) and \(twin.identifier).sql share version \(version)")
            }
            migrations.append(Migration(version: version, name: String(parts[1]), sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    private static func containsMigrations(_ url: URL) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.contains { $0.hasSuffix(".sql") && $0.first?.isNumber == true }
    }
}

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

/// Finds and reads the migration files.
public enum MigrationSource {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// The directory holding the migrations: `override` when given, else the first
    /// `migrations/` in the working directory or in a parent of the executable's directory
    /// (so `.build/debug/observatory` finds the checkout's), else `/usr/share/observatory/migrations`.
    public static func locate(override: String?) throws(Problem) -> URL {
        if let override {
            let url = URL(fileURLWithPath: override)
            guard containsMigrations(url) else {
                throw Problem(description: "OBSERVABILITY_MIGRATIONS_DIR \(override) holds no NNNN_name.sql files")
            }
            return url
        }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("migrations")]
        // /proc/self/exe names the executable even when it was started through PATH.
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent("migrations"))
            directory = directory.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: "/usr/share/observatory/migrations"))
        guard let found = candidates.first(where: containsMigrations) else {
            throw Problem(
                description: "no migrations directory found (looked in the working directory and beside the executable); set OBSERVABILITY_MIGRATIONS_DIR"
            )
        }
        return found
    }

    /// Every `NNNN_name.sql` in `directory`, ordered by version.
    public static func load(from directory: URL) throws(Problem) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw Problem(description: "cannot read \(directory.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for file in names where file.hasSuffix(".sql") {
            let stem = String(file.dropLast(4))
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0 else {
                throw Problem(description: "\(file): migration files are named NNNN_verb_object.sql")
            }
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path),
                let sql = String(data: data, encoding: .utf8)
            else {
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

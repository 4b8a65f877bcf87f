import Foundation
import XCTest

@testable import ObservatoryMigrations

/// The binary's migrations are exactly the repository's `migrations/` folder.
final class EmbeddedMigrationsTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("migrations")

    func testEveryFileOfTheFolderIsCompiledInUnchanged() throws {
        let files = try MigrationSource.load(from: Self.folder)
        let embedded = try MigrationSource.compiledIn()
        for file in files where !embedded.contains(where: { $0.identifier == file.identifier }) {
            XCTFail(
                "migrations/\(file.identifier).sql is not compiled in: add (\"\(file.identifier).sql\", PackageResources._\(file.identifier.dropFirst())_sql) to Sources/ObservatoryMigrations/EmbeddedMigrations.swift"
            )
        }
        XCTAssertEqual(embedded.map(\.identifier), files.map(\.identifier))
        XCTAssertEqual(embedded.map(\.checksum), files.map(\.checksum))
    }

    func testWithoutAnOverrideTheCompiledInMigrationsAreUsed() throws {
        XCTAssertEqual(try MigrationSource.load(override: nil), try MigrationSource.compiledIn())
    }

    func testAnOverrideFolderWithoutMigrationsIsRefusedByName() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try MigrationSource.load(override: empty.path)) { error in
            XCTAssertTrue(
                "\(error)".contains("OBSERVABILITY_MIGRATIONS_DIR \(empty.path) holds no NNNN_name.sql files"), "\(error)")
        }
    }

    func testBadlyNamedOrDuplicateFilesAreRefused() {
        XCTAssertThrowsError(try MigrationSource.parse([("1_a.sql", Array("SELECT 1".utf8))]))
        XCTAssertThrowsError(
            try MigrationSource.parse([("0001_a.sql", Array("SELECT 1".utf8)), ("0001_b.sql", Array("SELECT 2".utf8))]))
        XCTAssertThrowsError(try MigrationSource.parse([("0001_a.sql", [0xFF, 0xFE])]))
    }
}

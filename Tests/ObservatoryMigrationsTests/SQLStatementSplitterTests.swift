import XCTest

@testable import ObservatoryMigrations

final class SQLStatementSplitterTests: XCTestCase {
    func testSplitsOnlyAtTopLevelSemicolons() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'a;b');
            /* block; /* nested; */ comment */
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $body$ SELECT 2; $body$;
            SELECT "weird;name" FROM a WHERE x = 'it''s;' AND $1 = 2;

            """
        let statements = SQLStatementSplitter.split(script)
        XCTAssertEqual(statements.count, 4)
        XCTAssertEqual(statements[0], "-- a comment; with a semicolon\nCREATE TABLE a (x text DEFAULT 'a;b')")
        XCTAssertTrue(statements[1].hasSuffix("END $$"), statements[1])
        XCTAssertTrue(statements[2].hasSuffix("SELECT 2; $body$"), statements[2])
        XCTAssertEqual(statements[3], "SELECT \"weird;name\" FROM a WHERE x = 'it''s;' AND $1 = 2")
    }

    func testOnlyCommentsGiveNoStatements() {
        XCTAssertEqual(SQLStatementSplitter.split("-- nothing\n/* here */ ;\n"), [])
    }

    func testTheRealMigrationsSplit() throws {
        let migrations = try MigrationSource.compiledIn()
        XCTAssertGreaterThanOrEqual(migrations.count, 4)
        XCTAssertEqual(migrations.map(\.version), Array(1...migrations.count))
        for migration in migrations {
            XCTAssertFalse(SQLStatementSplitter.split(migration.sql).isEmpty, migration.identifier)
            XCTAssertEqual(migration.checksum.count, 64)
        }
    }
}

import Foundation
import NIOCore
import PostgresNIO
import XCTest

@testable import ObservatoryStore

/// The vocabulary's names: each type reads back every name it writes, in JSON and as a
/// PostgreSQL value, refuses a name it does not hold, and holds exactly the names the
/// schema allows.
final class VocabularyTests: XCTestCase {
    func testEveryNameRoundTrips() throws {
        try Self.roundTrip(SpanKind.self)
        try Self.roundTrip(SpanOperation.self)
        try Self.roundTrip(SpanStatus.self)
        try Self.roundTrip(Health.self)
        try Self.roundTrip(MetricLevel.self)
        try Self.roundTrip(MetricWindow.self)
    }

    static func roundTrip<Name: StoredName & Equatable>(
        _ type: Name.Type, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        for name in Name.allCases {
            let text = name.rawValue
            XCTAssertEqual("\(name)", text, file: file, line: line)
            XCTAssertEqual(try Name(stored: text), name, file: file, line: line)
            // JSON: the name as a string.
            let json = try JSONEncoder().encode([name])
            XCTAssertEqual(String(decoding: json, as: UTF8.self), "[\"\(text)\"]", file: file, line: line)
            XCTAssertEqual(try JSONDecoder().decode([Name].self, from: json), [name], file: file, line: line)
            // PostgreSQL: bound as text, read back from a text column.
            XCTAssertEqual(Name.psqlType, .text, file: file, line: line)
            var buffer = ByteBuffer()
            name.encode(into: &buffer, context: .default)
            XCTAssertEqual(String(buffer: buffer), text, file: file, line: line)
            XCTAssertEqual(
                try Name(from: &buffer, type: .text, format: .binary, context: .default), name, file: file, line: line)
        }
    }

    func testAnUnknownStoredNameIsAnErrorNamingIt() {
        for (type, decode) in [
            ("SpanOperation", { _ = try SpanOperation(stored: "tool_call") }),
            ("SpanStatus", { _ = try SpanStatus(stored: "OK") }),
            ("Health", { _ = try Health(stored: "blue") }),
        ] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try decode()) { error in
                guard case DatabaseError.unexpected(let message)? = error as? DatabaseError else {
                    return XCTFail("\(type): \(error)")
                }
                XCTAssertTrue(message.contains(type), message)
                XCTAssertTrue(message.contains("does not know"), message)
            }
        }
        var buffer = ByteBuffer(string: "green ")
        XCTAssertThrowsError(try Health(from: &buffer, type: .text, format: .binary, context: .default))
        XCTAssertThrowsError(try SpanStatus(stored: ""))
    }

    /// The names are the schema's: the CHECK constraints of `spans` and the values of
    /// `health()` list exactly the cases, in the same order.
    func testTheNamesAreTheSchemas() throws {
        let migrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations")
        let spans = try String(contentsOf: migrations.appendingPathComponent("0001_create_spans.sql"), encoding: .utf8)
        XCTAssertEqual(try Self.checked("kind", in: spans), SpanKind.allCases.map(\.rawValue))
        XCTAssertEqual(try Self.checked("operation", in: spans), SpanOperation.allCases.map(\.rawValue))
        XCTAssertEqual(try Self.checked("status", in: spans), SpanStatus.allCases.map(\.rawValue))
        let views = try String(contentsOf: migrations.appendingPathComponent("0006_create_metric_views.sql"), encoding: .utf8)
        let health = try XCTUnwrap(views.range(of: "CREATE FUNCTION observability.health"))
        let body = views[health.lowerBound...].prefix { $0 != ";" }
        let results = Set(Self.quoted(String(body)))
        XCTAssertEqual(results, Set(Health.allCases.map(\.rawValue)))
    }

    /// The quoted values of `CHECK (column IN (...))` in `sql`.
    static func checked(_ column: String, in sql: String) throws -> [String] {
        let start = try XCTUnwrap(sql.range(of: "CHECK (\(column) IN ("), column)
        let list = sql[start.upperBound...].prefix { $0 != ")" }
        return quoted(String(list))
    }

    static func quoted(_ text: String) -> [String] {
        text.split(separator: "'", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
            .map { String($0.element) }
    }

    func testSlowQueryThreshold() {
        XCTAssertEqual(SlowQuery.threshold, .seconds(1))
        XCTAssertEqual(SlowQuery.thresholdMs, 1_000)
        XCTAssertFalse(SlowQuery.isSlow(.dbQuery, durationMs: 1_000))
        XCTAssertTrue(SlowQuery.isSlow(.dbQuery, durationMs: 1_000.001))
        XCTAssertFalse(SlowQuery.isSlow(.httpRequest, durationMs: 60_000))
    }
}

import Foundation
import NIOCore
import ObservatoryStore
import XCTest

@testable import ObservatoryBenchmarks

final class SpanCopyEncoderTests: XCTestCase {
    private func record(name: String, target: String?, parent: SpanID?) -> SpanRecord {
        SpanRecord(
            traceID: TraceID(high: 0x0af7_6519_16cd_43dd, low: 0x8448_eb21_1c80_319c), spanID: SpanID(UInt64.max),
            parentSpanID: parent, name: name, kind: .server, operation: .toolInvoke, target: target, serviceName: "svc",
            scopeName: nil, startTimeUnixNano: 1_764_072_000_123_456_789, endTimeUnixNano: 1_764_072_000_124_456_789,
            status: .error, statusMessage: "m", attributesJSON: #"{"a":"x\\y"}"#, resourceAttributesJSON: "{}", eventsJSON: "[]")
    }

    func testRowFormatAndEscaping() {
        var buffer = ByteBuffer()
        SpanCopyEncoder.encode(record(name: "tab\there\nnew\\line\rcr", target: nil, parent: SpanID(1)), into: &buffer)
        let row = String(buffer: buffer)
        let fields = row.dropLast().split(separator: "\t", omittingEmptySubsequences: false)
        XCTAssertEqual(fields.count, SpanCopyEncoder.columns.count)
        XCTAssertEqual(fields[0], "0af7651916cd43dd8448eb211c80319c")
        XCTAssertEqual(fields[1], "-1")
        XCTAssertEqual(fields[2], "1")
        XCTAssertEqual(fields[3], #"tab\there\nnew\\line\rcr"#)
        XCTAssertEqual(fields[6], #"\N"#)
        XCTAssertEqual(fields[9], "2025-11-25 12:00:00.123456+00")
        XCTAssertEqual(fields[11], "1.0")
        XCTAssertEqual(fields[14], #"{"a":"x\\\\y"}"#)
        XCTAssertTrue(row.hasSuffix("\n"))
    }

    /// A row that refers to its resource and scope by id has the resource JSON and the
    /// scope name NULL and the ids last, in the order of `columnsAsStored`; a span without
    /// a scope has no scope id either.
    func testRowAsStored() {
        let columns = SpanCopyEncoder.columnsAsStored
        var buffer = ByteBuffer()
        var scoped = record(name: "n", target: "t", parent: nil)
        scoped.scopeName = "mcp"
        SpanCopyEncoder.encode(scoped, references: .init(resource: 42, scope: 7), into: &buffer)
        var unscoped = scoped
        unscoped.scopeName = nil
        SpanCopyEncoder.encode(unscoped, references: .init(resource: 42, scope: nil), into: &buffer)
        let rows = String(buffer: buffer).dropLast().split(separator: "\n")
        XCTAssertEqual(rows.count, 2)
        for (row, scope) in zip(rows, ["7", #"\N"#]) {
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(fields.count, columns.count)
            XCTAssertEqual(fields[columns.firstIndex(of: "resource_attributes")!], #"\N"#)
            XCTAssertEqual(fields[columns.firstIndex(of: "scope_name")!], #"\N"#)
            XCTAssertEqual(fields[columns.firstIndex(of: "resource_id")!], "42")
            XCTAssertEqual(fields[columns.firstIndex(of: "scope_id")!], Substring(scope))
            XCTAssertEqual(fields[columns.firstIndex(of: "events")!], "[]")
        }
    }

    func testTimestampsAgreeWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let seconds = UInt64.random(in: 0...4_102_444_800, using: &generator)  // 1970 to 2100
            let text = UnixTime.string(unixNano: seconds * 1_000_000_000 + 123_456_000, style: .rfc3339)
            XCTAssertEqual(
                text, formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))).dropLast() + ".123456Z")
        }
    }

    func testIDs() {
        XCTAssertEqual(TraceID(hex: "0AF7651916CD43DD8448EB211C80319C")?.hex, "0af7651916cd43dd8448eb211c80319c")
        XCTAssertNil(TraceID(hex: "0af7651916cd43dd8448eb211c80319"))
        XCTAssertNil(TraceID(hex: "0af7651916cd43dd8448eb211c80319g"))
        XCTAssertEqual(SpanID(hex: "ffffffffffffffff")?.storedValue, -1)
        XCTAssertEqual(SpanID(bytes: [0, 0, 0, 0, 0, 0, 1, 0])?.value, 256)
        XCTAssertNil(SpanID(bytes: [1]))
    }
}

import Foundation
import ObservatoryStore
import XCTest

@testable import ObservatoryIngest

/// Replays the real spans in Tests/fixtures/mcp (one file per MCP library, captured from a
/// real server and client, see the README there) through the ingest pipeline, and checks
/// the operation, target and status stored for every span against what each library is
/// known to send. The demo server has tools `add`, `slow`, `explode` (raises) and `refuse`
/// (returns an `isError` result), prompts `greet` and `summarize`, and resources
/// `res://docs/readme` and `res://docs/missing` (which does not exist).
///
/// The expectations are written per library from what its spans carry, not from the
/// classifier: where a target or a failure is only inside a JSON attribute, the test reads
/// it with Foundation's parser, independently of `JSONPeek`.
final class MCPFixtureTests: XCTestCase {
    /// What one span should be stored as.
    struct Expected: Equatable, CustomStringConvertible {
        var operation: SpanOperation
        var target: String?
        var failed: Bool

        init(_ operation: SpanOperation, _ target: String?, failed: Bool = false) {
            self.operation = operation
            self.target = target
            self.failed = failed
        }

        static let other = Expected(.internal, nil)

        var description: String { "\(operation.rawValue) \(target ?? "NULL")\(failed ? " failed" : "")" }
    }

    /// The tools whose every call fails, and the resource that does not exist.
    static let failingTools: Set<String> = ["explode", "refuse"]
    static let missingResource = "res://docs/missing"

    func testFastMCP() throws {
        // fastmcp 4.2.3 on mcp 2.3.0: its own client and server spans, plus the SDK's `MCP send`.
        try check("fastmcp", mustSee: ["tool_invoke add", "tool_invoke refuse failed", "resource_fetch NULL"]) { span in
            let sdk = span.scope == "mcp-python-sdk"
            let name = span.name.hasPrefix("MCP send ") ? String(span.name.dropFirst("MCP send ".count)) : span.name
            if let tool = name.after("tools/call ") {
                // `explode` fails on FastMCP's spans on both sides; `refuse` (isError) only on its
                // client span. The SDK's `MCP send` span and FastMCP's server span of `refuse` say nothing.
                let failed = !sdk && (tool == "explode" || (tool == "refuse" && span.kind == .client))
                return Expected(.toolInvoke, tool, failed: failed)
            }
            if let prompt = name.after("prompts/get ") { return Expected(.promptRender, prompt) }
            if name == "resources/read" {
                // FastMCP names the URI; the SDK's span does not, and only error.type says it failed.
                let uri = sdk ? nil : span.string("mcp.resource.uri")
                return Expected(.resourceFetch, uri, failed: sdk ? span.string("error.type") != nil : uri == Self.missingResource)
            }
            return .other
        }
    }

    func testMCPSDK() throws {
        // mcp 2.3.0 native spans: client `MCP send …`, server `<method> [name]`.
        try check("mcp_sdk", mustSee: ["tool_invoke add", "tool_invoke refuse failed", "prompt_render greet"]) { span in
            let name = span.name.hasPrefix("MCP send ") ? String(span.name.dropFirst("MCP send ".count)) : span.name
            if let tool = name.after("tools/call ") {
                // The server span fails for both failing tools; the client span is left unset.
                return Expected(.toolInvoke, tool, failed: span.kind == .server && Self.failingTools.contains(tool))
            }
            if let prompt = name.after("prompts/get ") { return Expected(.promptRender, prompt) }
            if name == "resources/read" {
                // No URI on either side; the missing resource carries error.type and rpc.response.status_code.
                return Expected(.resourceFetch, nil, failed: span.string("rpc.response.status_code") != nil)
            }
            return .other
        }
    }

    func testOpenLLMetry() throws {
        // opentelemetry-instrumentation-mcp 0.62.4 on mcp 1.30.0: everything INTERNAL.
        try check(
            "openllmetry",
            mustSee: ["tool_invoke add", "tool_invoke refuse failed", "prompt_render greet", "resource_fetch res://docs/readme"]
        ) { span in
            if let tool = span.name.before(".tool") {
                return Expected(.toolInvoke, tool, failed: Self.failingTools.contains(tool))
            }
            if span.name == "prompts/get.mcp" {
                return Expected(.promptRender, try span.json("traceloop.entity.input", at: "params", "name") as? String)
            }
            if span.name == "resources/read.mcp" {
                let uri = try span.json("traceloop.entity.input", at: "params", "uri") as? String
                return Expected(.resourceFetch, uri, failed: uri == Self.missingResource)
            }
            if span.name == "ResponseStreamWriter" {
                // The server side: no method, no name, only the result.
                guard span.string("mcp.response.value") != nil else { return .other }
                let isError = try span.json("mcp.response.value", at: "isError") as? Bool
                return Expected(.internal, nil, failed: isError == true)
            }
            return .other
        }
    }

    func testOpenInference() throws {
        // openinference-instrumentation-mcp 2.0.13 on mcp 1.30.0: the TOOL and CHAIN spans are
        // the application's (the instrumentor only propagates context).
        try check("openinference", mustSee: ["tool_invoke add", "tool_invoke refuse failed"]) { span in
            switch span.string("openinference.span.kind") {
            case "TOOL":
                let tool = try XCTUnwrap(span.string("tool.name"))
                // Both sides of `refuse` fail: the client's status, the server's output.value isError.
                return Expected(.toolInvoke, tool, failed: Self.failingTools.contains(tool))
            default:
                // CHAIN spans name no MCP method (greet, read_resource): not MCP calls.
                return Expected(.internal, nil, failed: span.statusCode == "error")
            }
        }
    }

    func testLogfire() throws {
        // logfire 5.4.0 instrument_mcp() on mcp 1.30.0: everything INTERNAL, no status on tool failures.
        try check(
            "logfire",
            mustSee: [
                "tool_invoke add", "tool_invoke refuse failed", "prompt_render summarize",
                "resource_fetch res://docs/missing failed",
            ]
        ) { span in
            let method = span.name.after("MCP request: ") ?? span.name.after("MCP server handle request: ")
            guard let method else { return .other }
            if method.hasPrefix("tools/call") {
                let tool = try XCTUnwrap(span.json("request", at: "params", "name") as? String)
                if let named = method.after("tools/call ") { XCTAssertEqual(named, tool) }
                return Expected(.toolInvoke, tool, failed: Self.failingTools.contains(tool))
            }
            if method == "prompts/get" {
                return Expected(.promptRender, try span.json("request", at: "params", "name") as? String)
            }
            if method == "resources/read" {
                let uri = try XCTUnwrap(span.json("request", at: "params", "uri") as? String)
                return Expected(.resourceFetch, uri, failed: uri == Self.missingResource)
            }
            return .other
        }
    }

    func testMessagesFromJSONResults() throws {
        // Where the only word of a failure is inside the JSON result, its text becomes the message.
        let logfire = try stored("logfire")
        let refused = logfire.filter { $0.record.name.hasSuffix("tools/call refuse") }
        XCTAssertFalse(refused.isEmpty)
        for (_, record) in refused {
            XCTAssertEqual(record.statusMessage, "refused: this tool always answers with isError")
        }
        let missing = logfire.filter { $0.span.name == "MCP server handle request: resources/read" && $0.record.status == .error }
        XCTAssertFalse(missing.isEmpty)
        for (_, record) in missing {
            XCTAssertEqual(record.statusMessage, "Unknown resource: res://docs/missing")
        }
    }

    // MARK: Replaying a fixture

    /// Stores every span of `library` and compares each with `expected`; `mustSee` lists
    /// outcomes the file must contain, so that a fixture recaptured without them fails.
    private func check(
        _ library: String, mustSee: [String], file: StaticString = #filePath, line: UInt = #line,
        expected: (FixtureSpan) throws -> Expected
    ) throws {
        var seen: Set<String> = []
        for (span, record) in try stored(library) {
            let want = try expected(span)
            let got = Expected(record.operation, record.target, failed: record.status == .error)
            XCTAssertEqual(got, want, "\(library): \(span.kind) span \"\(span.name)\" (\(span.scope))", file: file, line: line)
            if got.failed {
                XCTAssertNotNil(
                    record.statusMessage, "\(library): failed span \"\(span.name)\" has no message", file: file, line: line)
            }
            seen.insert(got.description)
        }
        for outcome in mustSee {
            XCTAssertTrue(seen.contains(outcome), "\(library): no span stored as \(outcome)", file: file, line: line)
        }
    }

    /// Each span of the fixture with the record the ingest pipeline makes of it (redaction
    /// and the default attribute length limit included).
    private func stored(_ library: String) throws -> [(span: FixtureSpan, record: SpanRecord)] {
        let spans = try Self.load(library)
        XCTAssertGreaterThan(spans.count, 10, "\(library): fixture has too few spans")
        let pipeline = IngestPipeline(
            policy: TracePolicy(sampleRate: 1, excludePaths: []), redactor: Redactor(maxValueLength: 8_192), eventsEnabled: true)
        let export = DecodedExport(
            origins: spans.map { SpanOrigin(resourceAttributes: [], scopeName: $0.scope) },
            spans: try spans.enumerated().map { try $1.input(origin: $0) })
        let outcome = pipeline.process(export)
        XCTAssertEqual(outcome.rejected, 0, outcome.rejectionMessage ?? "")
        XCTAssertEqual(outcome.records.count, spans.count)
        return Array(zip(spans, outcome.records))
    }

    static func load(_ library: String) throws -> [FixtureSpan] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/mcp/\(library).jsonl")
        let text = try String(contentsOf: url, encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }.map { line in
            try decoder.decode(FixtureSpan.self, from: Data(line.utf8))
        }
    }
}

/// One line of a fixture file: a span as the capture wrote it.
struct FixtureSpan: Decodable {
    var name: String
    var kindName: String
    var scope: String
    var traceID: String
    var spanID: String
    var parentSpanID: String
    var start: UInt64
    var end: UInt64
    var attributes: [String: FixtureValue]
    var statusCode: String
    var statusMessage: String
    var events: [Event]

    struct Event: Decodable {
        var name: String
        var attributes: [String: FixtureValue]
    }

    private enum CodingKeys: String, CodingKey {
        case name, kind, scope, attributes, status, events
        case traceID = "trace_id"
        case spanID = "span_id"
        case parentSpanID = "parent_span_id"
        case start = "start_time_unix_nano"
        case end = "end_time_unix_nano"
    }

    private struct Status: Decodable {
        var code: String
        var message: String
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        kindName = try container.decode(String.self, forKey: .kind)
        scope = try container.decode(String.self, forKey: .scope)
        traceID = try container.decode(String.self, forKey: .traceID)
        spanID = try container.decode(String.self, forKey: .spanID)
        parentSpanID = try container.decode(String.self, forKey: .parentSpanID)
        start = try container.decode(UInt64.self, forKey: .start)
        end = try container.decode(UInt64.self, forKey: .end)
        attributes = try container.decode([String: FixtureValue].self, forKey: .attributes)
        let status = try container.decode(Status.self, forKey: .status)
        statusCode = status.code
        statusMessage = status.message
        events = try container.decode([Event].self, forKey: .events)
    }

    var kind: SpanKind { SpanKind(rawValue: kindName) ?? .unspecified }

    func string(_ key: String) -> String? {
        if case .string(let text)? = attributes[key]?.value { return text }
        return nil
    }

    /// The value at `path` inside the JSON held by attribute `key`, read with Foundation.
    func json(_ key: String, at path: String...) throws -> Any? {
        let text = try XCTUnwrap(string(key), "no attribute \(key) on \(name)")
        var value: Any? = try JSONSerialization.jsonObject(with: Data(text.utf8))
        for step in path { value = (value as? [String: Any])?[step] }
        return value
    }

    func input(origin: Int) throws -> SpanInput {
        func attributeList(_ map: [String: FixtureValue]) -> [Attribute] {
            map.keys.sorted().map { Attribute(key: $0, value: map[$0]!.value) }
        }
        return SpanInput(
            traceID: try Self.bytes(hex: traceID), spanID: try Self.bytes(hex: spanID),
            parentSpanID: try Self.bytes(hex: parentSpanID), name: name, kind: kind, startTimeUnixNano: start,
            endTimeUnixNano: end, attributes: attributeList(attributes),
            events: events.map { EventInput(name: $0.name, timeUnixNano: start, attributes: attributeList($0.attributes)) },
            statusCode: statusCode == "error" ? .error : statusCode == "ok" ? .ok : .unset, statusMessage: statusMessage,
            origin: origin)
    }

    static func bytes(hex: String) throws -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: hex)) }
        return try stride(from: 0, to: digits.count, by: 2).map { index in
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: hex))
            }
            return byte
        }
    }
}

/// An attribute value as the capture wrote it in JSON.
struct FixtureValue: Decodable {
    var value: AttributeValue

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            value = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            value = .int(number)
        } else if let number = try? container.decode(Double.self) {
            value = .double(number)
        } else if let text = try? container.decode(String.self) {
            value = .string(text)
        } else {
            value = .array(try container.decode([FixtureValue].self).map(\.value))
        }
    }
}

extension String {
    /// The rest of the string after `prefix`, or nil when it does not start so.
    fileprivate func after(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }

    /// The string before `suffix`, or nil when it does not end so.
    fileprivate func before(_ suffix: String) -> String? {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : nil
    }
}

import Foundation
import ObservatoryStore
import XCTest

@testable import ObservatoryIngest

final class IngestPipelineTests: XCTestCase {
    private func span(
        trace: [UInt8]? = Array(repeating: 1, count: 16), id: [UInt8]? = [0, 0, 0, 0, 0, 0, 0, 1], parent: [UInt8]? = [],
        name: String = "s", kind: SpanKind = .internal, start: UInt64 = 1_000, end: UInt64 = 2_000,
        attributes: [Attribute] = []
    ) -> SpanInput {
        SpanInput(
            traceID: trace, spanID: id, parentSpanID: parent, name: name, kind: kind, startTimeUnixNano: start,
            endTimeUnixNano: end, attributes: attributes, events: [], statusCode: .unset, statusMessage: "", origin: 0)
    }

    private func pipeline(sampleRate: Double = 1, exclude: [String] = [], events: Bool = true) -> IngestPipeline {
        IngestPipeline(
            policy: TracePolicy(sampleRate: sampleRate, excludePaths: exclude), redactor: Redactor(maxValueLength: 8192),
            eventsEnabled: events)
    }

    private func export(_ spans: [SpanInput]) -> DecodedExport {
        DecodedExport(
            origins: [SpanOrigin(resourceAttributes: [Attribute(key: "service.name", value: .string("svc"))], scopeName: nil)],
            spans: spans)
    }

    func testInvalidSpansAreRejectedOneByOne() {
        let outcome = pipeline().process(
            export([
                span(),
                span(trace: Array(repeating: 1, count: 15)),
                span(id: [1, 2, 3]),
                span(trace: nil),
                span(trace: Array(repeating: 0, count: 16)),
                span(parent: [1]),
                span(start: 0),
                span(start: 5, end: 4),
            ]))
        XCTAssertEqual(outcome.records.count, 1)
        XCTAssertEqual(outcome.rejected, 7)
        XCTAssertEqual(outcome.rejectionReasons.count, 5)
        XCTAssertEqual(outcome.rejectionReasons[0], #"span #1 "s": trace id must be 16 bytes, got 15"#)
        XCTAssertTrue(outcome.rejectionMessage?.hasSuffix("(and 2 more)") ?? false)
    }

    func testRecordFields() throws {
        let input = span(
            parent: [0, 0, 0, 0, 0, 0, 0, 9], name: "tools/call get_weather", kind: .server, start: 1_000_000, end: 3_500_000,
            attributes: [Attribute(key: "password", value: .string("x")), Attribute(key: "q", value: .string("a\"b\n"))])
        let record = try XCTUnwrap(pipeline().process(export([input])).records.first)
        XCTAssertEqual(record.parentSpanID, SpanID(9))
        XCTAssertEqual(record.operation, .toolInvoke)
        XCTAssertEqual(record.target, "get_weather")
        XCTAssertEqual(record.serviceName, "svc")
        XCTAssertEqual(record.durationMilliseconds, 2.5)
        XCTAssertEqual(record.attributesJSON, #"{"password":"[REDACTED]","q":"a\"b\n"}"#)
        XCTAssertEqual(record.resourceAttributesJSON, #"{"service.name":"svc"}"#)
        XCTAssertEqual(record.eventsJSON, "[]")
    }

    /// A tool result past the stored length still fails its span: the outcome reads the
    /// attribute as sent, and the stored copy is cut as usual.
    func testAnErrorFlagPastTheStoredLengthStillFailsTheSpan() throws {
        let text = String(repeating: "x", count: 20_000)
        let response = #"{"content":[{"type":"text","text":"\#(text)"}],"isError":true}"#
        let input = span(
            name: "MCP request: tools/call refuse",
            attributes: [
                Attribute(key: "rpc.system", value: .string("jsonrpc")),
                Attribute(key: "rpc.method", value: .string("tools/call")),
                Attribute(key: "response", value: .string(response)),
            ])
        let record = try XCTUnwrap(pipeline().process(export([input])).records.first)
        XCTAssertEqual(record.status, .error)
        XCTAssertTrue(record.attributesJSON.contains("…[truncated"))
        XCTAssertLessThanOrEqual(record.statusMessage?.count ?? 0, 8_300)
    }

    func testAllZeroParentIsARoot() throws {
        let record = try XCTUnwrap(pipeline().process(export([span(parent: Array(repeating: 0, count: 8))])).records.first)
        XCTAssertNil(record.parentSpanID)
    }

    func testEventsCanBeDisabled() throws {
        var input = span()
        input.events = [EventInput(name: "exception", timeUnixNano: 1_500, attributes: [])]
        XCTAssertEqual(
            try XCTUnwrap(pipeline().process(export([input])).records.first).eventsJSON,
            #"[{"name":"exception","time":"1970-01-01T00:00:00.000001Z","attributes":{}}]"#)
        XCTAssertEqual(try XCTUnwrap(pipeline(events: false).process(export([input])).records.first).eventsJSON, "[]")
    }

    func testSamplingIsDeterministicAndNearTheRate() {
        var generator = SystemRandomNumberGenerator()
        var kept = 0
        for _ in 0..<10_000 {
            let id = TraceID(high: generator.next(), low: generator.next())
            let first = TracePolicy.samples(id, rate: 0.5)
            XCTAssertEqual(first, TracePolicy.samples(id, rate: 0.5))
            if first { kept += 1 }
        }
        XCTAssertEqual(Double(kept), 5_000, accuracy: 150)
        // Sequential ids (not random) still spread.
        let sequential = (1...10_000).filter { TracePolicy.samples(TraceID(high: 0, low: UInt64($0)), rate: 0.25) }.count
        XCTAssertEqual(Double(sequential), 2_500, accuracy: 75)
        XCTAssertTrue(TracePolicy.samples(TraceID(high: 1, low: 1), rate: 1))
        XCTAssertFalse(TracePolicy.samples(TraceID(high: 1, low: 1), rate: 0))
    }

    func testSamplingKeepsOrDropsWholeTraces() {
        var spans: [SpanInput] = []
        for trace in 0..<200 {
            let traceBytes: [UInt8] = Array(repeating: UInt8(trace % 256), count: 15) + [UInt8(trace / 256 + 1)]
            for index in 1...3 {
                spans.append(span(trace: traceBytes, id: [0, 0, 0, 0, 0, 0, 0, UInt8(index)]))
            }
        }
        let outcome = pipeline(sampleRate: 0.5).process(export(spans))
        XCTAssertEqual(outcome.records.count + outcome.droppedBySampling, 600)
        XCTAssertEqual(outcome.rejected, 0)
        let perTrace = Dictionary(grouping: outcome.records, by: { (record: SpanRecord) in record.traceID }).mapValues {
            $0.count
        }
        XCTAssertTrue(perTrace.values.allSatisfy { $0 == 3 })
        XCTAssertGreaterThan(outcome.droppedBySampling, 0)
    }

    func testExcludedPathsDropTheWholeTraceNowAndLater() {
        let policy = pipeline(exclude: ["/health", "/static/.*"])
        let health = Array(repeating: UInt8(7), count: 16)
        let mcp = Array(repeating: UInt8(8), count: 16)
        let outcome = policy.process(
            export([
                span(trace: health, kind: .server, attributes: [Attribute(key: "url.path", value: .string("/health"))]),
                span(trace: health, id: [0, 0, 0, 0, 0, 0, 0, 2]),
                span(trace: mcp, kind: .server, attributes: [Attribute(key: "url.path", value: .string("/mcp"))]),
                span(
                    trace: Array(repeating: UInt8(9), count: 16), kind: .server,
                    attributes: [Attribute(key: "http.target", value: .string("/static/app.js?v=1"))]),
                // Whole match only: /healthz is not /health.
                span(
                    trace: Array(repeating: UInt8(10), count: 16), kind: .server,
                    attributes: [Attribute(key: "url.path", value: .string("/healthz"))]),
            ]))
        XCTAssertEqual(outcome.droppedByExclusion, 3)
        XCTAssertEqual(
            Set(outcome.records.map { $0.traceID.hex }),
            [TraceID(bytes: mcp)!.hex, TraceID(bytes: Array(repeating: UInt8(10), count: 16))!.hex])
        // A later export with more spans of the excluded trace drops them too.
        let later = policy.process(export([span(trace: health, id: [0, 0, 0, 0, 0, 0, 0, 3])]))
        XCTAssertEqual(later.droppedByExclusion, 1)
        XCTAssertTrue(later.records.isEmpty)
    }

    func testExclusionPatternsMatchTheWholePath() {
        let policy = TracePolicy(sampleRate: 1, excludePaths: ["/a|/ab", "/x.*?", "/static/.*"])
        XCTAssertTrue(policy.excludes(path: "/ab"))
        XCTAssertTrue(policy.excludes(path: "/a"))
        XCTAssertTrue(policy.excludes(path: "/xyz"))
        XCTAssertTrue(policy.excludes(path: "/static/app.js"))
        XCTAssertFalse(policy.excludes(path: "/abc"))
        XCTAssertFalse(policy.excludes(path: "/api/static/x"))
    }

    // MARK: Limits on what one export expands to (issue 9, items 5 and 6)

    func testOverlongAttributeKeysRejectTheSpan() {
        let long = String(repeating: "k", count: 4_096)
        var inEvent = span(id: [0, 0, 0, 0, 0, 0, 0, 3])
        inEvent.events = [EventInput(name: "e", timeUnixNano: 1_500, attributes: [Attribute(key: long, value: .int(1))])]
        let outcome = pipeline().process(
            export([
                span(id: [0, 0, 0, 0, 0, 0, 0, 1], attributes: [Attribute(key: long, value: .string("v"))]),
                span(
                    id: [0, 0, 0, 0, 0, 0, 0, 2],
                    attributes: [Attribute(key: "m", value: .map([Attribute(key: long, value: .bool(true))]))]),
                inEvent,
                span(
                    id: [0, 0, 0, 0, 0, 0, 0, 4],
                    attributes: [Attribute(key: String(repeating: "k", count: 1_024), value: .string("v"))]),
            ]))
        XCTAssertEqual(outcome.rejected, 3)
        XCTAssertEqual(outcome.records.map { $0.spanID }, [SpanID(4)])
        XCTAssertEqual(
            outcome.rejectionReasons.first, #"span #0 "s": an attribute key of 4096 bytes exceeds the limit of 1024 bytes"#)
    }

    func testOverlongResourceKeyRejectsItsSpans() {
        let resource = [Attribute(key: String(repeating: "r", count: 2_000), value: .string("x"))]
        let outcome = pipeline().process(
            DecodedExport(origins: [SpanOrigin(resourceAttributes: resource, scopeName: nil)], spans: [span()]))
        XCTAssertEqual(outcome.rejected, 1)
        XCTAssertTrue(outcome.records.isEmpty)
    }

    func testOversizedResourceRejectsItsSpansOnly() {
        // 40 values of 8 KiB: 320 KiB of resource, carried by every span of that resource.
        let big = (0..<40).map { Attribute(key: "r\($0)", value: .string(String(repeating: "x", count: 8_192))) }
        let origins = [
            SpanOrigin(resourceAttributes: big, scopeName: nil),
            SpanOrigin(resourceAttributes: [Attribute(key: "service.name", value: .string("small"))], scopeName: nil),
        ]
        var second = span(id: [0, 0, 0, 0, 0, 0, 0, 2])
        second.origin = 1
        let outcome = pipeline().process(DecodedExport(origins: origins, spans: [span(), second]))
        XCTAssertEqual(outcome.rejected, 1)
        XCTAssertEqual(outcome.records.map { $0.spanID }, [SpanID(2)])
        XCTAssertTrue(
            outcome.rejectionReasons.first?.contains("exceed the limit of 131072 bytes") ?? false, "\(outcome.rejectionReasons)")
    }

    func testExportExpandingPastTheLimitStoresNothing() {
        // 100 spans carrying a resource of about 100 KB: 10 MB of rows against a limit of 1 MB.
        let resource = (0..<12).map { Attribute(key: "r\($0)", value: .string(String(repeating: "x", count: 8_192))) }
        let spans = (1...100).map { span(id: [0, 0, 0, 0, 0, 0, 0, UInt8($0)]) }
        let limited = IngestPipeline(
            policy: TracePolicy(sampleRate: 1, excludePaths: []), redactor: Redactor(maxValueLength: 8192), eventsEnabled: true,
            maxExpandedBytes: 1_000_000)
        let outcome = limited.process(
            DecodedExport(origins: [SpanOrigin(resourceAttributes: resource, scopeName: nil)], spans: spans))
        XCTAssertEqual(outcome.expandedLimitExceeded, 1_000_000)
        XCTAssertTrue(outcome.records.isEmpty)
        XCTAssertTrue(outcome.expandedLimitMessage?.contains("more than 1000000 bytes") ?? false)
        // Nine spans fit.
        let fits = limited.process(
            DecodedExport(origins: [SpanOrigin(resourceAttributes: resource, scopeName: nil)], spans: Array(spans.prefix(9))))
        XCTAssertNil(fits.expandedLimitExceeded)
        XCTAssertEqual(fits.records.count, 9)
    }

    func testExpandedLimitFollowsTheBodyLimit() {
        XCTAssertEqual(IngestLimits.maxExpandedBytes(bodyLimit: 16 << 20), 64 << 20)
        XCTAssertEqual(IngestLimits.maxExpandedBytes(bodyLimit: 1 << 30), 4 << 30)
        XCTAssertEqual(IngestLimits.maxExpandedBytes(bodyLimit: 1_024), IngestLimits.minimumExpandedBytes)
        XCTAssertEqual(IngestLimits.maxExpandedBytes(bodyLimit: .max), .max)
    }
}

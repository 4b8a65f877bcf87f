import ObservatoryDemo
import ObservatoryOTLP
import SwiftProtobuf
import XCTest

/// Reproducibility and well-formedness of generated traces.
final class DemoTrafficTests: XCTestCase {
    func testSameSeedGivesIdenticalBytes() throws {
        var first = DemoTrafficFactory.make(seed: 7)
        var second = DemoTrafficFactory.make(seed: 7)
        for _ in 0..<3 {
            let a: Data = try first.makeRequest(traces: 50).serializedData()
            let b: Data = try second.makeRequest(traces: 50).serializedData()
            XCTAssertEqual(a, b)
        }
    }

    func testDifferentSeedGivesDifferentBytes() throws {
        var first = DemoTrafficFactory.make(seed: 7)
        var second = DemoTrafficFactory.make(seed: 8)
        let a: Data = try first.makeRequest(traces: 50).serializedData()
        let b: Data = try second.makeRequest(traces: 50).serializedData()
        XCTAssertNotEqual(a, b)
    }

    func testIDsAreWellFormedAndTimesOrdered() {
        XCTAssertFalse(Sample.spans.isEmpty)
        for flat in Sample.spans {
            let span = flat.span
            XCTAssertEqual(span.traceID.count, 16, span.name)
            XCTAssertTrue(span.traceID.contains { $0 != 0 }, span.name)
            XCTAssertEqual(span.spanID.count, 8, span.name)
            XCTAssertTrue(span.spanID.contains { $0 != 0 }, span.name)
            XCTAssertTrue(span.parentSpanID.isEmpty || span.parentSpanID.count == 8, span.name)
            XCTAssertGreaterThanOrEqual(span.endTimeUnixNano, span.startTimeUnixNano, span.name)
        }
    }

    func testChildrenLieInsideParentsOfTheSameTrace() {
        for trace in Sample.traces {
            let byID = Dictionary(trace.map { ($0.span.spanID, $0.span) }, uniquingKeysWith: { first, _ in first })
            XCTAssertEqual(byID.count, trace.count, "span ids repeat within a trace")
            XCTAssertEqual(Set(trace.map(\.span.traceID)).count, 1, "one trace id per trace")
            XCTAssertEqual(trace.filter { $0.span.parentSpanID.isEmpty }.count, 1, "one root per trace")
            for child in trace.map(\.span) where !child.parentSpanID.isEmpty {
                guard let parent = byID[child.parentSpanID] else {
                    XCTFail("\(child.name): parent missing from its trace")
                    continue
                }
                XCTAssertGreaterThan(child.startTimeUnixNano, parent.startTimeUnixNano, child.name)
                XCTAssertLessThan(child.endTimeUnixNano, parent.endTimeUnixNano, child.name)
            }
        }
    }

    func testTracesStartSpacedApart() {
        var traffic = DemoTrafficFactory.make(seed: 3, spacingNanos: 1_000)
        for index in 0..<20 {
            let root = flatten(traffic.nextTrace()).root
            XCTAssertEqual(root?.startTimeUnixNano, Sample.start + UInt64(index) * 1_000)
        }
        XCTAssertEqual(traffic.tracesGenerated, 20)
    }

    func testMakeRequestHoldsTheSameSpansAsSuccessiveTraces() {
        var batched = DemoTrafficFactory.make(seed: 11)
        var single = DemoTrafficFactory.make(seed: 11)
        let request = batched.makeRequest(traces: 30)
        let fromRequest = flatten(request.resourceSpans)
        let fromTraces = (0..<30).flatMap { _ in flatten(single.nextTrace()) }
        XCTAssertEqual(batched.lastRequestSpanCount, fromRequest.count)
        let order: (FlatSpan, FlatSpan) -> Bool = { $0.span.spanID.lexicographicallyPrecedes($1.span.spanID) }
        XCTAssertEqual(fromRequest.sorted(by: order), fromTraces.sorted(by: order))
    }

    func testRequestBatchesOneResourceSpansPerReplica() {
        var traffic = DemoTrafficFactory.make(seed: 5)
        let request = traffic.makeRequest(traces: 200)
        let replicas = request.resourceSpans.map { flatten([$0]).first.map { "\($0.service)@\($0.host)" } ?? "" }
        XCTAssertEqual(Set(replicas).count, replicas.count, "a replica appears twice")
        XCTAssertGreaterThanOrEqual(replicas.count, 4)
        for resourceSpans in request.resourceSpans {
            let keys = Set(resourceSpans.resource.attributes.map(\.key))
            for key in ["service.name", "service.version", "deployment.environment.name", "telemetry.sdk.name", "host.name"] {
                XCTAssertTrue(keys.contains(key), "resource lacks \(key)")
            }
            XCTAssertEqual(
                resourceSpans.resource.attributes.first { $0.key == "telemetry.sdk.name" }?.value.stringValue, "observatory-demo")
            XCTAssertEqual(
                Set(resourceSpans.scopeSpans.map(\.scope.name)).count, resourceSpans.scopeSpans.count, "a scope appears twice")
        }
    }

    func testTracesCrossServices() {
        let crossing = Sample.traces.filter { Set($0.map(\.service)) == ["mcp-gateway", "mcp-tools"] }
        XCTAssertGreaterThan(Double(crossing.count) / Double(Sample.traces.count), 0.3)
        var traffic = DemoTrafficFactory.make(seed: 42)
        let multiResource = (0..<100).filter { _ in traffic.nextTrace().count >= 2 }
        XCTAssertFalse(multiResource.isEmpty)
        for trace in Sample.traces {
            XCTAssertEqual(trace.first { $0.span.parentSpanID.isEmpty }?.service, "mcp-gateway")
        }
    }

    func testProtobufRoundTrip() throws {
        var traffic = DemoTrafficFactory.make(seed: 99)
        let request = traffic.makeRequest(traces: 100)
        let bytes: Data = try request.serializedData()
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes)
        XCTAssertEqual(decoded, request)
        XCTAssertGreaterThanOrEqual(traffic.lastRequestSpanCount, 200)
    }
}

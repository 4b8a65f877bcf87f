import ObservatoryIngest
import ObservatoryStore
import Tracing
import XCTest

@testable import ObservatoryTracing

/// The tracer on its own, without the global InstrumentationSystem: nesting, sampling,
/// suppression and W3C trace context.
final class SelfTracerTests: XCTestCase {
    func testChildSpansNestUnderTheirParentWithOrderedTimes() async throws {
        let sink = CollectingSink()
        let tracer = SelfTracer(sampleRate: 1, exporter: sink)
        try await tracer.withSpan("request", context: .topLevel, ofKind: .server) { root in
            try await InstrumentationContext.$current.withValue(root.context) {
                try await tracer.withSpan("query one", ofKind: .client) { _ in try await Task.sleep(for: .milliseconds(2)) }
                try await tracer.withSpan("query two", ofKind: .client) { _ in try await Task.sleep(for: .milliseconds(2)) }
            }
        }
        let spans = sink.all
        XCTAssertEqual(spans.map(\.name), ["query one", "query two", "request"])
        let root = spans[2]
        XCTAssertEqual(root.parentSpanID, [], "the root has no parent")
        XCTAssertEqual(root.kind, .server)
        for child in spans[0...1] {
            XCTAssertEqual(child.traceID, root.traceID)
            XCTAssertEqual(child.parentSpanID, root.spanID)
            XCTAssertEqual(child.kind, .client)
            XCTAssertGreaterThanOrEqual(child.startTimeUnixNano, root.startTimeUnixNano)
            XCTAssertLessThanOrEqual(child.endTimeUnixNano, root.endTimeUnixNano)
        }
        XCTAssertLessThanOrEqual(spans[0].endTimeUnixNano, spans[1].startTimeUnixNano, "sequential queries do not overlap")
        XCTAssertNotEqual(spans[0].spanID, spans[1].spanID)
    }

    func testSampleRateKeepsWholeTracesWithinThreePercent() {
        let sink = CollectingSink()
        let tracer = SelfTracer(sampleRate: 0.5, exporter: sink)
        // Trace ids from a fixed sequence, as callers' traceparent headers would bring
        // them, so the count is the same on every run.
        var state: UInt64 = 20_261_126
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<10_000 {
            var caller = InstrumentationContext.topLevel
            caller.selfSpanContext = SelfSpanContext(
                traceID: TraceID(high: next(), low: next()), spanID: SpanID(next() | 1), sampled: true)
            tracer.withSpan("request", context: caller, ofKind: .server) { root in
                InstrumentationContext.$current.withValue(root.context) {
                    tracer.withSpan("child") { _ in }
                }
            }
        }
        let roots = sink.all.filter { $0.kind == .server }
        XCTAssertEqual(Double(roots.count), 5_000, accuracy: 150, "within ±3 % of half")
        // Every kept request has its child, and no child is kept without its request.
        XCTAssertEqual(sink.all.count, roots.count * 2)
        for root in roots {
            XCTAssertTrue(
                TracePolicy.samples(TraceID(bytes: root.traceID!)!, rate: 0.5),
                "the decision is the ingest policy's, from the trace id")
        }
    }

    func testSuppressedContextRecordsNothingAndNeitherDoItsChildren() {
        let sink = CollectingSink()
        let tracer = SelfTracer(sampleRate: 1, exporter: sink)
        var suppressed = InstrumentationContext.topLevel
        suppressed.tracingSuppressed = true
        tracer.withSpan("excluded", context: suppressed, ofKind: .server) { span in
            XCTAssertFalse(span.isRecording)
            InstrumentationContext.$current.withValue(span.context) {
                tracer.withSpan("query", ofKind: .client) { XCTAssertFalse($0.isRecording) }
            }
        }
        XCTAssertTrue(sink.all.isEmpty)
    }

    func testIncomingTraceparentContinuesTheCallersTrace() {
        let sink = CollectingSink()
        let tracer = SelfTracer(sampleRate: 1, exporter: sink)
        var context = InstrumentationContext.topLevel
        tracer.extract(
            ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], into: &context,
            using: DictionaryExtractor())
        tracer.withSpan("request", context: context, ofKind: .server) { _ in }
        let span = try! XCTUnwrap(sink.all.first)
        XCTAssertEqual(span.traceID.map(hex), "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(span.parentSpanID.map(hex), "00f067aa0ba902b7")
        XCTAssertNotEqual(span.spanID.map(hex), "00f067aa0ba902b7")

        var carrier: [String: String] = [:]
        var child = InstrumentationContext.topLevel
        child.selfSpanContext = SelfSpanContext(
            traceID: TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")!, spanID: SpanID(hex: "1111111111111111")!,
            sampled: true)
        tracer.inject(child, into: &carrier, using: DictionaryInjector())
        XCTAssertEqual(carrier["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01")
    }

    func testMalformedTraceparentStartsANewTrace() {
        let malformed = [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
        ]
        for value in malformed {
            XCTAssertNil(SelfSpanContext(traceparent: value), value)
        }
        // A later version may append fields; its first four are still read.
        XCTAssertNotNil(SelfSpanContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"))
    }

    func testErrorsBecomeExceptionEventsAndAttributesKeepTheirTypes() {
        struct Boom: Error, CustomStringConvertible { var description: String { "it broke" } }
        let sink = CollectingSink()
        let tracer = SelfTracer(sampleRate: 1, exporter: sink)
        let span = tracer.startSpan("work", context: .topLevel)
        span.attributes["count"] = 3
        span.attributes["ratio"] = 0.5
        span.attributes["flag"] = true
        span.attributes["net.sock.peer.addr"] = "10.1.2.3"
        span.recordError(Boom())
        span.setStatus(SpanStatus(code: .error, message: "failed"))
        span.setStatus(SpanStatus(code: .ok))
        span.end()
        span.end()
        XCTAssertEqual(sink.all.count, 1, "a span ends once")
        let stored = sink.all[0]
        XCTAssertEqual(stored.statusCode, .error, "a later ok does not hide an error")
        XCTAssertEqual(stored.statusMessage, "failed")
        XCTAssertEqual(stored.attribute("count"), .int(3))
        XCTAssertEqual(stored.attribute("ratio"), .double(0.5))
        XCTAssertEqual(stored.attribute("flag"), .bool(true))
        XCTAssertEqual(stored.attribute("client.address"), .string("10.1.2.3"), "stable name for the client address")
        XCTAssertNil(stored.attribute("net.sock.peer.addr"))
        let event = try! XCTUnwrap(stored.events.first)
        XCTAssertEqual(event.name, "exception")
        XCTAssertTrue(event.attributes.contains(Attribute(key: "exception.message", value: .string("it broke"))))
        XCTAssertTrue(
            event.attributes.contains {
                if case .string(let type) = $0.value { return $0.key == "exception.type" && type.contains("Boom") }
                return false
            })
    }

    func testServerSpanAnswering5xxIsAnErrorEvenWithoutAThrow() {
        let sink = CollectingSink()
        let tracer = SelfTracer(sampleRate: 1, exporter: sink)
        for code in [200, 400, 503] {
            let span = tracer.startSpan("GET /x", context: .topLevel, ofKind: .server)
            span.attributes["http.response.status_code"] = code
            span.end()
        }
        XCTAssertEqual(sink.all.map(\.stored.status), [.unset, .unset, .error])
        XCTAssertEqual(sink.all[2].stored.statusMessage, "HTTP 503")
    }

    /// A request's spans wait for its server span: stored together, or, for an answer
    /// of 401 or 404, dropped together (a child ending later follows the same verdict).
    func testARequestsSpansAreStoredOrDroppedWithItsServerSpan() {
        let sink = CollectingSink()
        let tracer = SelfTracer(sampleRate: 1, exporter: sink)
        for code in [401, 404, 200] {
            let server = tracer.startSpan("GET /x", context: .topLevel, ofKind: .server)
            let query = tracer.startSpan("SELECT t", context: server.context, ofKind: .client)
            let late = tracer.startSpan("SELECT late", context: server.context, ofKind: .client)
            query.end()
            XCTAssertEqual(sink.all.count, 0, "held until the request's answer is known")
            server.attributes["http.response.status_code"] = code
            server.end()
            late.end()
        }
        XCTAssertEqual(sink.all.map(\.name), ["SELECT t", "GET /x", "SELECT late"], "only the 200's spans")
        XCTAssertEqual(Set(sink.all.map(\.traceID)).count, 1)
        XCTAssertEqual(sink.discarded, 6)
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

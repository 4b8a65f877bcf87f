import Foundation
import ObservatoryDemo
import ObservatoryOTLP
import ObservatoryStore
import XCTest

@testable import ObservatoryIngest

/// The hand-written protobuf reader against SwiftProtobuf (`ReferenceProtobufDecoder`).
final class ProtobufDecoderTests: XCTestCase {
    /// Everything a decoded span carries, comparable.
    struct Summary: Equatable {
        var traceID: [UInt8]?
        var spanID: [UInt8]?
        var parentSpanID: [UInt8]?
        var name: String
        var kind: SpanKind
        var start: UInt64
        var end: UInt64
        var attributes: [Attribute]
        var events: [String]
        var eventAttributes: [[Attribute]]
        var status: String
        var message: String
        var service: String
        var scope: String?
        var resource: [Attribute]
    }

    static func summaries(_ export: DecodedExport) -> [Summary] {
        export.spans.map { span in
            let origin = export.origins[span.origin]
            return Summary(
                traceID: span.traceID, spanID: span.spanID, parentSpanID: span.parentSpanID, name: span.name, kind: span.kind,
                start: span.startTimeUnixNano, end: span.endTimeUnixNano, attributes: span.attributes,
                events: span.events.map { "\($0.name)@\($0.timeUnixNano)" }, eventAttributes: span.events.map(\.attributes),
                status: "\(span.statusCode)", message: span.statusMessage, service: origin.serviceName, scope: origin.scopeName,
                resource: origin.resourceAttributes)
        }
    }

    func testAgreesWithSwiftProtobufOnGeneratedTraffic() throws {
        for seed in 1...20 {
            var traffic = DemoTraffic(seed: UInt64(seed), startUnixNano: 1_764_000_000_000_000_000)
            let body = try traffic.makeRequest(traces: 50).serializedData()
            let fast = try OTLPProtobufDecoder.decode(body)
            let reference = try ReferenceProtobufDecoder.decode(body)
            XCTAssertEqual(Self.summaries(fast), Self.summaries(reference), "seed \(seed)")
            XCTAssertGreaterThan(fast.spans.count, 50)
        }
    }

    func testEveryValueKindAndUnknownFields() throws {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data(repeating: 7, count: 16)
        span.spanID = Data(repeating: 8, count: 8)
        span.traceState = "vendor=x"  // a field the reader skips
        span.flags = 1
        var link = Opentelemetry_Proto_Trace_V1_Span.Link()
        link.traceID = Data(repeating: 1, count: 16)
        span.links = [link]
        func keyValue(_ key: String, _ set: (inout Opentelemetry_Proto_Common_V1_AnyValue) -> Void)
            -> Opentelemetry_Proto_Common_V1_KeyValue
        {
            var entry = Opentelemetry_Proto_Common_V1_KeyValue()
            entry.key = key
            set(&entry.value)
            return entry
        }
        var nested = Opentelemetry_Proto_Common_V1_KeyValueList()
        nested.values = [keyValue("inner") { $0.intValue = -5 }]
        var array = Opentelemetry_Proto_Common_V1_ArrayValue()
        array.values = [Opentelemetry_Proto_Common_V1_AnyValue.with { $0.doubleValue = 2.5 }, .with { $0.boolValue = true }]
        span.attributes = [
            keyValue("s") { $0.stringValue = "é😀" }, keyValue("b") { $0.boolValue = true },
            keyValue("i") { $0.intValue = Int64.min },
            keyValue("d") { $0.doubleValue = -0.125 }, keyValue("raw") { $0.bytesValue = Data([0, 255]) },
            keyValue("a") { $0.arrayValue = array }, keyValue("m") { $0.kvlistValue = nested }, keyValue("empty") { _ in },
        ]
        span.status.code = .ok
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span] }] }]
        let body = try request.serializedData()
        XCTAssertEqual(
            Self.summaries(try OTLPProtobufDecoder.decode(body)), Self.summaries(try ReferenceProtobufDecoder.decode(body)))
    }

    func testMutatedPayloadsNeverCrashAndAgreeOnIdsWhenBothDecode() throws {
        var random = SplitMix64(seed: 99)
        var traffic = DemoTraffic(seed: 5, startUnixNano: 1_764_000_000_000_000_000)
        let seeds = try (0..<4).map { _ in try traffic.makeRequest(traces: 4).serializedData() }
        var bothDecoded = 0
        for iteration in 0..<3_000 {
            var bytes = [UInt8](seeds[iteration % seeds.count])
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] = UInt8.random(in: 0...255, using: &random)
            }
            let body = Data(bytes)
            let fast = try? OTLPProtobufDecoder.decode(body)
            let reference = try? ReferenceProtobufDecoder.decode(body)
            if let fast, let reference {
                bothDecoded += 1
                XCTAssertEqual(fast.spans.map(\.traceID), reference.spans.map(\.traceID), "iteration \(iteration)")
                XCTAssertEqual(fast.spans.map(\.spanID), reference.spans.map(\.spanID), "iteration \(iteration)")
            }
        }
        XCTAssertGreaterThan(bothDecoded, 100)
    }

    func testErrorsSayWhatAndWhere() {
        XCTAssertThrowsError(try OTLPProtobufDecoder.decode(Data([0x0A, 0x05, 0x01]))) { error in
            XCTAssertEqual(
                error as? IngestError,
                .undecodable(
                    "the body is not a valid OTLP ExportTraceServiceRequest protobuf (length 5 runs past the end at byte 2)"))
        }
        // A string that is not UTF-8: span name field (5) inside a span (field 2 of ScopeSpans).
        let badName: [UInt8] = [0x0A, 0x08, 0x12, 0x06, 0x12, 0x04, 0x2A, 0x02, 0xC3, 0x28]
        XCTAssertThrowsError(try OTLPProtobufDecoder.decode(Data(badName))) { error in
            XCTAssertTrue("\(error)".contains("not valid UTF-8"), "\(error)")
        }
    }
}

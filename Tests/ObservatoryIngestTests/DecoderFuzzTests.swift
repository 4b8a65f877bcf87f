import Foundation
import ObservatoryDemo
import ObservatoryOTLP
import ObservatoryStore
import XCTest

@testable import ObservatoryIngest

/// Random and mutated payloads through every decoder and the pipeline: none may crash,
/// and each either decodes or fails with an `IngestError`.
final class DecoderFuzzTests: XCTestCase {
    func testTenThousandRandomAndMutatedPayloads() throws {
        var random = SplitMix64(seed: 0xF00D)
        var traffic = DemoTraffic(seed: 3, startUnixNano: 1_700_000_000_000_000_000)
        let protobufSeeds = try (0..<8).map { _ in try traffic.makeRequest(traces: 3).serializedData() }
        let jsonSeeds = try (0..<8).map { _ in try traffic.makeRequest(traces: 2).jsonUTF8Data() }
        let nativeSeed = Data(
            #"{"service_name":"g","spans":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"n","start_time":1,"end_time":2,"attributes":{"a":[1,{"b":null}]}}]}"#
                .utf8)
        let pipeline = IngestPipeline(
            policy: TracePolicy(sampleRate: 1, excludePaths: ["/health"]), redactor: Redactor(maxValueLength: 64),
            eventsEnabled: true)

        var decoded = 0
        var refused = 0
        for iteration in 0..<10_000 {
            let payload: Data
            switch iteration % 4 {
            case 0:
                payload = Data(
                    (0..<Int.random(in: 0...512, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            case 1:
                payload = mutate(protobufSeeds[iteration % protobufSeeds.count], using: &random)
            case 2:
                payload = mutate(jsonSeeds[iteration % jsonSeeds.count], using: &random)
            default:
                payload = mutate(nativeSeed, using: &random)
            }
            let decoders: [(Data) throws -> DecodedExport] = [
                { try OTLPProtobufDecoder.decode($0) }, { try OTLPJSONDecoder.decode($0) }, { try NativeSpanDecoder.decode($0) },
            ]
            for decode in decoders {
                do {
                    let export = try decode(payload)
                    _ = pipeline.process(export)
                    decoded += 1
                } catch {
                    refused += 1
                }
            }
        }
        XCTAssertEqual(decoded + refused, 30_000)
        // The mutations must leave some payloads decodable, or the pipeline was never exercised.
        XCTAssertGreaterThan(decoded, 1_000)
        XCTAssertGreaterThan(refused, 1_000)
    }

    // MARK: Numeric extremes in every numeric field

    /// What the extremes test puts in every numeric field: 0, 2^63 − 1, 2^64 − 1, NaN,
    /// ±infinity, 1e308, each converted to the field's type (integers by bit pattern,
    /// floats to the integer type's ends).
    enum Extreme: CaseIterable {
        case zero, int64Max, uint64Max, nan, infinity, minusInfinity, huge

        var double: Double {
            switch self {
            case .zero: 0
            case .int64Max: Double(Int64.max)
            case .uint64Max: Double(UInt64.max)
            case .nan: .nan
            case .infinity: .infinity
            case .minusInfinity: -.infinity
            case .huge: 1e308
            }
        }
        var uint64: UInt64 {
            switch self {
            case .zero, .nan: 0
            case .int64Max: UInt64(Int64.max)
            case .uint64Max, .infinity, .huge: .max
            case .minusInfinity: 1 << 63
            }
        }
        var int64: Int64 { Int64(bitPattern: uint64) }
        var uint32: UInt32 { UInt32(truncatingIfNeeded: uint64) }
        var int: Int { Int(truncatingIfNeeded: int64) }
        /// As JSON text: a number, or the token NaN/Infinity (not JSON: refused).
        var jsonNumber: String {
            switch self {
            case .zero: "0"
            case .int64Max: "9223372036854775807"
            case .uint64Max: "18446744073709551615"
            case .nan: "NaN"
            case .infinity: "Infinity"
            case .minusInfinity: "-Infinity"
            case .huge: "1e308"
            }
        }
    }

    /// The latest time any record may carry: ingestion's bound, computed here from the
    /// clock rather than from the code under test.
    private func latestAllowed() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1e9) + 3_600_000_000_000 + 1_000_000_000 }

    /// Each decoded export through the pipeline: nothing traps, and no record carries a
    /// time past the clock plus the skew (they would sit on top of every list and, at
    /// 2^64 − 1, trapped every read before issue 9).
    private func check(_ export: DecodedExport, _ what: String) {
        let pipeline = IngestPipeline(
            policy: TracePolicy(sampleRate: 1, excludePaths: []), redactor: Redactor(maxValueLength: 64), eventsEnabled: true)
        let outcome = pipeline.process(export)
        let latest = latestAllowed()
        for record in outcome.records {
            XCTAssertLessThanOrEqual(record.startTimeUnixNano, latest, what)
            XCTAssertLessThanOrEqual(record.endTimeUnixNano, latest, what)
            XCTAssertTrue(record.eventsJSON.hasPrefix("["), what)
        }
        XCTAssertEqual(outcome.records.count + outcome.rejected, export.spans.count, what)
    }

    func testProtobufNumericExtremesInEveryField() throws {
        typealias Request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        var template = Request()
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        var number = Opentelemetry_Proto_Common_V1_KeyValue()
        number.key = "n"
        number.value.intValue = 1
        var real = Opentelemetry_Proto_Common_V1_KeyValue()
        real.key = "d"
        real.value.doubleValue = 1.5
        resourceSpans.resource.attributes = [number, real]
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope.name = "s"
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data(repeating: 1, count: 16)
        span.spanID = Data(repeating: 2, count: 8)
        span.startTimeUnixNano = now
        span.endTimeUnixNano = now + 1_000
        span.attributes = [number, real]
        var event = Opentelemetry_Proto_Trace_V1_Span.Event()
        event.timeUnixNano = now
        event.attributes = [number, real]
        span.events = [event]
        var link = Opentelemetry_Proto_Trace_V1_Span.Link()
        link.traceID = Data(repeating: 3, count: 16)
        link.spanID = Data(repeating: 4, count: 8)
        span.links = [link]
        scopeSpans.spans = [span]
        resourceSpans.scopeSpans = [scopeSpans]
        template.resourceSpans = [resourceSpans]

        let fields: [(String, (inout Request, Extreme) -> Void)] = [
            ("resource.droppedAttributesCount", { $0.resourceSpans[0].resource.droppedAttributesCount = $1.uint32 }),
            ("resource.attributes.intValue", { $0.resourceSpans[0].resource.attributes[0].value.intValue = $1.int64 }),
            ("resource.attributes.doubleValue", { $0.resourceSpans[0].resource.attributes[1].value.doubleValue = $1.double }),
            ("scope.droppedAttributesCount", { $0.resourceSpans[0].scopeSpans[0].scope.droppedAttributesCount = $1.uint32 }),
            ("span.flags", { $0.resourceSpans[0].scopeSpans[0].spans[0].flags = $1.uint32 }),
            (
                "span.kind",
                { $0.resourceSpans[0].scopeSpans[0].spans[0].kind = .UNRECOGNIZED(Int(Int32(truncatingIfNeeded: $1.int))) }
            ),
            ("span.startTimeUnixNano", { $0.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano = $1.uint64 }),
            ("span.endTimeUnixNano", { $0.resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano = $1.uint64 }),
            ("span.attributes.intValue", { $0.resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue = $1.int64 }),
            (
                "span.attributes.doubleValue",
                { $0.resourceSpans[0].scopeSpans[0].spans[0].attributes[1].value.doubleValue = $1.double }
            ),
            ("span.droppedAttributesCount", { $0.resourceSpans[0].scopeSpans[0].spans[0].droppedAttributesCount = $1.uint32 }),
            ("span.droppedEventsCount", { $0.resourceSpans[0].scopeSpans[0].spans[0].droppedEventsCount = $1.uint32 }),
            ("span.droppedLinksCount", { $0.resourceSpans[0].scopeSpans[0].spans[0].droppedLinksCount = $1.uint32 }),
            ("event.timeUnixNano", { $0.resourceSpans[0].scopeSpans[0].spans[0].events[0].timeUnixNano = $1.uint64 }),
            (
                "event.droppedAttributesCount",
                { $0.resourceSpans[0].scopeSpans[0].spans[0].events[0].droppedAttributesCount = $1.uint32 }
            ),
            (
                "event.attributes.intValue",
                { $0.resourceSpans[0].scopeSpans[0].spans[0].events[0].attributes[0].value.intValue = $1.int64 }
            ),
            (
                "event.attributes.doubleValue",
                { $0.resourceSpans[0].scopeSpans[0].spans[0].events[0].attributes[1].value.doubleValue = $1.double }
            ),
            (
                "link.droppedAttributesCount",
                { $0.resourceSpans[0].scopeSpans[0].spans[0].links[0].droppedAttributesCount = $1.uint32 }
            ),
            ("link.flags", { $0.resourceSpans[0].scopeSpans[0].spans[0].links[0].flags = $1.uint32 }),
            (
                "status.code",
                { $0.resourceSpans[0].scopeSpans[0].spans[0].status.code = .UNRECOGNIZED(Int(Int32(truncatingIfNeeded: $1.int))) }
            ),
        ]
        for (name, set) in fields {
            for extreme in Extreme.allCases {
                var request = template
                set(&request, extreme)
                check(try OTLPProtobufDecoder.decode(try request.serializedData()), "protobuf \(name) = \(extreme)")
            }
        }
    }

    /// A JSON template with `@` where the extreme goes, once per numeric field.
    private func jsonExtremes(_ template: String, decode: (Data) throws -> DecodedExport, fields: [String]) {
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        var refused = 0
        for field in fields {
            XCTAssertTrue(template.contains("\"\(field)\":0"), "the template has no \(field) to replace")
            for extreme in Extreme.allCases {
                for raw in [extreme.jsonNumber, "\"\(extreme.jsonNumber)\""] {
                    var text = template.replacingOccurrences(of: "NOW", with: String(now))
                    text = text.replacingOccurrences(of: "\"\(field)\":0", with: "\"\(field)\":\(raw)")
                    do {
                        check(try decode(Data(text.utf8)), "\(field) = \(raw)")
                    } catch {
                        refused += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(refused, 0)
    }

    func testOTLPJSONNumericExtremesInEveryField() {
        let template = #"""
            {"resourceSpans":[{"resource":{"droppedAttributesCount":0,"attributes":[{"key":"n","value":{"intValue":0}},{"key":"d","value":{"doubleValue":0}}]},
            "scopeSpans":[{"scope":{"name":"s","droppedAttributesCount":0},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",
            "spanId":"b7ad6b7169203331","name":"n","kind":0,"flags":0,"startTimeUnixNano":0,"endTimeUnixNano":0,
            "droppedAttributesCount":0,"droppedEventsCount":0,"droppedLinksCount":0,
            "events":[{"timeUnixNano":0,"name":"e","droppedAttributesCount":0}],"status":{"code":0}}]}]}]}
            """#
        // Each field's own 0 is replaced in turn; the others keep a valid value.
        let fields = [
            "droppedAttributesCount", "intValue", "doubleValue", "kind", "flags", "startTimeUnixNano",
            "endTimeUnixNano", "droppedEventsCount", "droppedLinksCount", "timeUnixNano", "code",
        ]
        let valid = template.replacingOccurrences(
            of: #""startTimeUnixNano":0,"endTimeUnixNano":0"#,
            with: #""startTimeUnixNano":NOW,"endTimeUnixNano":NOW"#)
        for field in fields {
            let base = field.hasSuffix("TimeUnixNano") && field != "timeUnixNano" ? template : valid
            let prepared =
                field == "startTimeUnixNano"
                ? base.replacingOccurrences(of: #""endTimeUnixNano":0"#, with: #""endTimeUnixNano":NOW"#)
                : field == "endTimeUnixNano"
                    ? base.replacingOccurrences(of: #""startTimeUnixNano":0"#, with: #""startTimeUnixNano":NOW"#) : base
            jsonExtremes(prepared, decode: { try OTLPJSONDecoder.decode($0) }, fields: [field])
        }
    }

    func testNativeNumericExtremesInEveryField() {
        let template = #"""
            {"spans":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"n",
            "start_time":NOW,"end_time":NOW,"attributes":{"i":0},"events":[{"name":"e","time":NOW,"attributes":{"j":0}}]}]}
            """#
        let withDuration = template.replacingOccurrences(of: #""end_time":NOW"#, with: #""duration_ms":0"#)
        for (field, base) in [
            ("start_time", template), ("end_time", template), ("time", template), ("i", template),
            ("j", template), ("duration_ms", withDuration),
        ] {
            let prepared = base.replacingOccurrences(of: "\"\(field)\":NOW", with: "\"\(field)\":0")
            jsonExtremes(prepared, decode: { try NativeSpanDecoder.decode($0) }, fields: [field])
        }
    }

    /// Flips, deletes, duplicates and truncates bytes.
    private func mutate(_ seed: Data, using random: inout SplitMix64) -> Data {
        var bytes = [UInt8](seed)
        for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0: bytes[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
            case 2: bytes.remove(at: index)
            case 3: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 8)], at: index)
            default: bytes.removeLast(Int.random(in: 0...min(16, bytes.count), using: &random))
            }
        }
        return Data(bytes)
    }
}

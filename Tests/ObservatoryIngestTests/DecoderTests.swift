import Foundation
import ObservatoryOTLP
import ObservatoryStore
import XCTest

@testable import ObservatoryIngest

final class DecoderTests: XCTestCase {
    func testProtobufRoundTrip() throws {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data((1...16).map { UInt8($0) })
        span.spanID = Data((1...8).map { UInt8($0) })
        span.name = "tools/call get_weather"
        span.kind = .server
        span.startTimeUnixNano = 1_700_000_000_000_000_000
        span.endTimeUnixNano = 1_700_000_000_250_000_000
        span.status.code = .error
        span.status.message = "boom"
        var attribute = Opentelemetry_Proto_Common_V1_KeyValue()
        attribute.key = "gen_ai.tool.name"
        attribute.value.stringValue = "get_weather"
        span.attributes = [attribute]
        var event = Opentelemetry_Proto_Trace_V1_Span.Event()
        event.name = "exception"
        event.timeUnixNano = 1_700_000_000_100_000_000
        span.events = [event]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        var service = Opentelemetry_Proto_Common_V1_KeyValue()
        service.key = "service.name"
        service.value.stringValue = "gw"
        resourceSpans.resource.attributes = [service]
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope.name = "scope"
        scopeSpans.spans = [span]
        resourceSpans.scopeSpans = [scopeSpans]
        request.resourceSpans = [resourceSpans]

        let export = try OTLPProtobufDecoder.decode(try request.serializedData())
        XCTAssertEqual(export.spans.count, 1)
        let decoded = export.spans[0]
        XCTAssertEqual(decoded.traceID, Array(1...16))
        XCTAssertEqual(decoded.parentSpanID, [])
        XCTAssertEqual(decoded.kind, .server)
        XCTAssertEqual(decoded.statusCode, .error)
        XCTAssertEqual(decoded.attributes, [Attribute(key: "gen_ai.tool.name", value: .string("get_weather"))])
        XCTAssertEqual(decoded.events.first?.timeUnixNano, 1_700_000_000_100_000_000)
        XCTAssertEqual(export.origins[decoded.origin].serviceName, "gw")
        XCTAssertEqual(export.origins[decoded.origin].scopeName, "scope")
    }

    func testProtobufGarbageIsUndecodable() {
        XCTAssertThrowsError(try OTLPProtobufDecoder.decode(Data([0xFF, 0xFF, 0xFF, 0xFF]))) { error in
            guard case .undecodable = error as? IngestError else { return XCTFail("\(error)") }
        }
    }

    func testOTLPJSONMapping() throws {
        let json = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gw"}}]},
              "futureField": 1,
              "scopeSpans":[{"scope":{"name":"s"},"spans":[
                {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","parentSpanId":"",
                 "name":"x","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
                 "attributes":[{"key":"n","value":{"intValue":"9007199254740993"}},{"key":"d","value":{"doubleValue":"NaN"}},
                               {"key":"b","value":{"boolValue":true}},{"key":"raw","value":{"bytesValue":"AQID"}},
                               {"key":"arr","value":{"arrayValue":{"values":[{"intValue":1},{"stringValue":"a"}]}}},
                               {"key":"map","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}}],
                 "status":{"code":2,"message":"failed"}}]}]}]}
            """
        let export = try OTLPJSONDecoder.decode(Data(json.utf8))
        let span = try XCTUnwrap(export.spans.first)
        XCTAssertEqual(TraceID(bytes: span.traceID ?? [])?.hex, "5b8efff798038103d269b633813fc60c")
        XCTAssertEqual(SpanID(bytes: span.spanID ?? [])?.hex, "eee19b7ec3c1b174")
        XCTAssertEqual(span.kind, .client)
        XCTAssertEqual(span.startTimeUnixNano, 1_544_712_660_000_000_000)
        XCTAssertEqual(span.endTimeUnixNano, 1_544_712_661_000_000_000)
        XCTAssertEqual(span.statusCode, .error)
        XCTAssertEqual(span.attributes[key: "n"], .int(9_007_199_254_740_993))
        guard case .double(let value) = span.attributes[key: "d"], value.isNaN else { return XCTFail("NaN") }
        XCTAssertEqual(span.attributes[key: "raw"], .bytes([1, 2, 3]))
        XCTAssertEqual(span.attributes[key: "arr"], .array([.int(1), .string("a")]))
        XCTAssertEqual(span.attributes[key: "map"], .map([Attribute(key: "k", value: .string("v"))]))
    }

    func testOTLPJSONErrorsSayWhere() {
        XCTAssertThrowsError(try OTLPJSONDecoder.decode(Data("{not json".utf8))) { error in
            XCTAssertEqual(error as? IngestError, .undecodable("the body is not valid OTLP JSON: malformed JSON"))
        }
        XCTAssertThrowsError(
            try OTLPJSONDecoder.decode(Data(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"WRONG"}]}]}]}"#.utf8))
        ) { error in
            XCTAssertTrue("\(error)".contains("resourceSpans[0].scopeSpans[0].spans[0].kind"), "\(error)")
        }
    }

    func testNativeFormat() throws {
        let json = """
            {"service_name":"gateway","spans":[
              {"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"tools/call a",
               "kind":"server","start_time":"2026-01-31T12:00:00.123456789Z","end_time":"2026-01-31T13:00:00.5+01:00",
               "status":"error","status_message":"x","attributes":{"n":1,"f":1.5,"s":"t","o":{"k":[true,null]}},
               "events":[{"name":"exception","time":1769860800000000000,"attributes":{"exception.type":"E"}}]},
              {"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203332","parent_span_id":"b7ad6b7169203331",
               "name":"db","service_name":"tools","start_time":1769860800000000000,"duration_ms":2.5}]}
            """
        let export = try NativeSpanDecoder.decode(Data(json.utf8))
        XCTAssertEqual(export.spans.count, 2)
        let first = export.spans[0]
        XCTAssertEqual(first.startTimeUnixNano, 1_769_860_800_123_456_789)
        XCTAssertEqual(first.endTimeUnixNano, 1_769_860_800_500_000_000)
        XCTAssertEqual(first.statusCode, .error)
        XCTAssertEqual(first.attributes[key: "n"], .int(1))
        XCTAssertEqual(first.attributes[key: "f"], .double(1.5))
        XCTAssertEqual(first.attributes[key: "o"], .map([Attribute(key: "k", value: .array([.bool(true), .string("")]))]))
        XCTAssertEqual(export.origins[first.origin].serviceName, "gateway")
        let second = export.spans[1]
        XCTAssertEqual(second.endTimeUnixNano - second.startTimeUnixNano, 2_500_000)
        XCTAssertEqual(export.origins[second.origin].serviceName, "tools")
        XCTAssertEqual(second.kind, .internal)
    }

    func testNativeFormatRejectsBadTimes() {
        let json =
            #"{"spans":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","start_time":"yesterday"}]}"#
        XCTAssertThrowsError(try NativeSpanDecoder.decode(Data(json.utf8))) { error in
            XCTAssertTrue("\(error)".contains("spans[0].start_time"), "\(error)")
        }
    }

    func testRFC3339() {
        XCTAssertEqual(RFC3339.unixNano("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(RFC3339.unixNano("2000-02-29T23:59:59.999Z"), 951_868_799_999_000_000)
        XCTAssertEqual(RFC3339.unixNano("2000-03-01T01:00:00+01:00"), 951_868_800_000_000_000)
        XCTAssertNil(RFC3339.unixNano("2000-03-01"))
        XCTAssertNil(RFC3339.unixNano("2000-03-01T00:00:00"))
        XCTAssertNil(RFC3339.unixNano("2000-13-01T00:00:00Z"))
        XCTAssertNil(RFC3339.unixNano("2000-03-01T00:00:00.Z"))
    }

    /// Days the month does not have and offsets beyond ±23:59 are not RFC 3339 times.
    func testRFC3339RefusesImpossibleDaysAndOffsets() {
        for text in [
            "2026-02-31T00:00:00Z", "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
            "2026-06-31T00:00:00Z", "2026-09-31T00:00:00Z", "2026-11-31T00:00:00Z", "2026-01-32T00:00:00Z",
            "2026-01-00T00:00:00Z", "2026-01-01T00:00:00+99:99", "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00-00:60", "2026-01-01T00:00:00+23:60",
        ] {
            XCTAssertNil(RFC3339.unixNano(text), text)
        }
        // The last days that exist, and the widest offsets that do.
        XCTAssertEqual(RFC3339.unixNano("2024-02-29T00:00:00Z"), 1_709_164_800_000_000_000)
        XCTAssertEqual(RFC3339.unixNano("2000-02-29T00:00:00Z"), 951_782_400_000_000_000)
        XCTAssertEqual(RFC3339.unixNano("2026-04-30T00:00:00Z"), 1_777_507_200_000_000_000)
        XCTAssertEqual(RFC3339.unixNano("2026-12-31T23:59:59Z"), 1_798_761_599_000_000_000)
        XCTAssertEqual(RFC3339.unixNano("2026-01-02T00:00:00+23:59"), 1_767_225_660_000_000_000)
        XCTAssertEqual(RFC3339.unixNano("2026-01-01T00:00:00-23:59"), 1_767_311_940_000_000_000)
    }

    /// Years past 2554 (up to the documented 9999) do not fit in nanoseconds since 1970:
    /// they parse to the largest value, which validation refuses, instead of trapping.
    func testRFC3339BeyondNanosecondRangeSaturates() {
        XCTAssertEqual(RFC3339.unixNano("2554-07-21T23:34:33.709551615Z"), UInt64.max)
        XCTAssertEqual(RFC3339.unixNano("2554-07-21T23:34:33.709551614Z"), UInt64.max - 1)
        XCTAssertEqual(RFC3339.unixNano("2554-07-21T23:34:33.709551616Z"), UInt64.max)
        XCTAssertEqual(RFC3339.unixNano("2600-01-01T00:00:00Z"), UInt64.max)
        XCTAssertEqual(RFC3339.unixNano("9999-12-31T23:59:60.999999999-23:59"), UInt64.max)
    }
}

/// The accepted time range (SpanTimeRange), applied to what every decoder produced.
final class SpanTimeRangeTests: XCTestCase {
    /// 2026-11-25T10:00:00Z, the pinned server clock.
    let now: UInt64 = 1_795_600_800_000_000_000
    let hour: UInt64 = 3_600_000_000_000
    let pipeline = IngestPipeline(
        policy: TracePolicy(sampleRate: 1, excludePaths: []), redactor: Redactor(maxValueLength: 64), eventsEnabled: true)

    func span(start: UInt64, end: UInt64, eventAt: UInt64? = nil) -> SpanInput {
        SpanInput(
            traceID: Array(repeating: 1, count: 16), spanID: Array(repeating: 2, count: 8), parentSpanID: [], name: "n",
            kind: .server, startTimeUnixNano: start, endTimeUnixNano: end, attributes: [],
            events: eventAt.map { [EventInput(name: "e", timeUnixNano: $0, attributes: [])] } ?? [], statusCode: .unset,
            statusMessage: "", origin: 0)
    }

    func reason(_ input: SpanInput) -> String? {
        if case .failure(let failure) = pipeline.validate(input, nowUnixNano: now) { return failure.description }
        return nil
    }

    func testSkewBoundIsInclusiveAndCoversStartEndAndEvents() {
        XCTAssertEqual(SpanTimeRange.maxFutureSkewSeconds, 3_600)
        XCTAssertNil(reason(span(start: now, end: now + hour)))
        XCTAssertNil(reason(span(start: 1, end: 2, eventAt: now + hour)))
        let end = reason(span(start: now, end: now + hour + 1))
        XCTAssertEqual(
            end, "end time is more than 1 h ahead of the server's clock (latest accepted: 2026-11-25T11:00:00.000000Z)")
        XCTAssertTrue(reason(span(start: now + hour + 1, end: .max))?.hasPrefix("start time is more than 1 h ahead") == true)
        XCTAssertTrue(reason(span(start: now, end: now, eventAt: .max))?.hasPrefix("event #0 time is more than 1 h") == true)
        XCTAssertEqual(SpanTimeRange.latestAccepted(nowUnixNano: .max - 5), .max)
    }

    /// Issue 9, items 1 and 3: the times that were stored (2^64 − 1) or trapped (2600)
    /// are rejected one span at a time, through every decoder, with a message.
    func testExtremeTimesAreRejectedPerSpanByEveryDecoder() throws {
        let good = #"{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","start_time":1,"end_time":2}"#
        let native =
            #"{"spans":[\#(good),{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203332","start_time":"2600-01-01T00:00:00Z","end_time":"2600-01-01T00:00:01Z"},{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203333","start_time":1795600800000000000,"duration_ms":1e308}]}"#
        let otlp =
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","startTimeUnixNano":"1","endTimeUnixNano":"2"},{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203332","startTimeUnixNano":"1","endTimeUnixNano":"18446744073709551615"}]}]}]}"#
        var proto = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        for (index, end) in [UInt64(2), .max, 1 << 63].enumerated() {
            var span = Opentelemetry_Proto_Trace_V1_Span()
            span.traceID = Data(repeating: 1, count: 16)
            span.spanID = Data(repeating: UInt8(index + 1), count: 8)
            span.startTimeUnixNano = 1
            span.endTimeUnixNano = end
            scope.spans.append(span)
        }
        var resource = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resource.scopeSpans = [scope]
        proto.resourceSpans = [resource]

        let exports = [
            ("native", try NativeSpanDecoder.decode(Data(native.utf8)), 2),
            ("otlp json", try OTLPJSONDecoder.decode(Data(otlp.utf8)), 1),
            ("protobuf", try OTLPProtobufDecoder.decode(try proto.serializedData()), 2),
        ]
        for (name, export, rejected) in exports {
            let outcome = pipeline.process(export)
            XCTAssertEqual(outcome.records.count, 1, name)
            XCTAssertEqual(outcome.rejected, rejected, name)
            XCTAssertTrue(outcome.rejectionMessage?.contains("ahead of the server's clock") == true, name)
        }
    }
}

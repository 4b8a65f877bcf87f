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
        XCTAssertThrowsError(try OTLPJSONDecoder.decode(Data(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"WRONG"}]}]}]}"#.utf8))) { error in
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
        let json = #"{"spans":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","start_time":"yesterday"}]}"#
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
}

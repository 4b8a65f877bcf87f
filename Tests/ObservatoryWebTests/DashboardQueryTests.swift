import Foundation
import ObservatoryStore
import XCTest

@testable import ObservatoryWeb

/// Query parameters, formatting and the JSON embedded in pages.
final class DashboardQueryTests: XCTestCase {
    func testMetricsQueryDefaultsAndRefusals() throws {
        let defaults = try MetricsQuery([:])
        XCTAssertEqual(defaults.window, .day)
        XCTAssertEqual(defaults.limit, 20)
        let chosen = try MetricsQuery(["window": "7d", "limit": "50", "sort": "p99", "dir": "asc", "refresh": "1"])
        XCTAssertEqual(chosen.window, .week)
        XCTAssertEqual(chosen.limit, 50)
        XCTAssertEqual(chosen.sort, .p99)
        XCTAssertFalse(chosen.descending)
        XCTAssertTrue(chosen.autoRefresh)
        for bad in [["window": "2h"], ["limit": "7"], ["sort": "target; DROP TABLE x"], ["dir": "up"]] {
            XCTAssertThrowsError(try MetricsQuery(bad), "\(bad)") { error in
                XCTAssertTrue((error as? BadQuery)?.message.contains("must be") == true)
            }
        }
    }

    func testTraceListQuery() throws {
        let query = try TraceListQuery([
            "window": "1h", "status": "error", "operation": "tool_invoke", "target": "get weather", "min_ms": "250",
            "q": "50%", "page": "3", "limit": "20", "service": "agent", "server": "weather & co",
        ])
        let filter = query.filter(now: Date(timeIntervalSince1970: 10_000))
        XCTAssertEqual(filter.since, Date(timeIntervalSince1970: 10_000 - 3_600))
        XCTAssertEqual(filter.offset, 40)
        XCTAssertEqual(filter.minDurationMs, 250)
        XCTAssertEqual(filter.service, "agent")
        XCTAssertEqual(filter.server, "weather & co")
        // Links keep every filter, percent-encoded.
        let next = link("/admin/observability/traces", query.queryItems(page: 4))
        XCTAssertTrue(next.contains("target=get%20weather"), next)
        XCTAssertTrue(next.contains("q=50%25"), next)
        XCTAssertTrue(next.contains("page=4"), next)
        XCTAssertTrue(next.contains("server=weather%20%26%20co"), next)
        XCTAssertThrowsError(try TraceListQuery(["server": "a\u{1}b"]))
        XCTAssertThrowsError(try TraceListQuery(["server": String(repeating: "s", count: maxNameScalars + 1)]))
        XCTAssertThrowsError(try TraceListQuery(["target": "x"]))
        XCTAssertThrowsError(try TraceListQuery(["min_ms": "-1"]))
        XCTAssertThrowsError(try TraceListQuery(["operation": "nope"]))
        XCTAssertThrowsError(try TraceListQuery(["page": "0"]))
        XCTAssertThrowsError(try TraceListQuery(["q": "a\u{0}b"]))
        XCTAssertThrowsError(try TraceListQuery(["operation": "tool_invoke", "target": "x\ny"]))
    }

    func testPlusSignsSurviveLinks() {
        XCTAssertEqual(
            link("/x", [URLQueryItem(name: "target", value: "a+b c")]), "/x?target=a%2Bb%20c")
    }

    func testScriptJSONCannotCloseItsElement() throws {
        let hostile = ["name": "</script><script>alert(1)</script> & <!-- \u{2028}"]
        let encoded = try ScriptJSON.encode(hostile)
        XCTAssertFalse(encoded.contains("<"))
        XCTAssertFalse(encoded.contains(">"))
        XCTAssertFalse(encoded.contains("&"))
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(encoded.utf8))
        XCTAssertEqual(decoded, hostile)
    }

    func testFormats() {
        XCTAssertEqual(Format.duration(0.4242), "0.42 ms")
        XCTAssertEqual(Format.duration(12.34), "12.3 ms")
        XCTAssertEqual(Format.duration(845.2), "845 ms")
        XCTAssertEqual(Format.duration(1_240), "1.24 s")
        XCTAssertEqual(Format.duration(125_000), "2 m 5 s")
        XCTAssertEqual(Format.duration(0.005), "0.01 ms")
        XCTAssertEqual(Format.duration(9.999), "10.00 ms")
        XCTAssertEqual(Format.duration(0), "0.00 ms")
        XCTAssertEqual(Format.duration(1_000), "1.00 s")
        XCTAssertEqual(Format.count(1_234_567), "1,234,567")
        XCTAssertEqual(Format.count(12), "12")
        XCTAssertEqual(Format.percent(4.96), "5.0 %")
        XCTAssertEqual(Format.time(Date(timeIntervalSince1970: 0)), "1970-01-01 00:00:00 UTC")
    }

    /// The numeric extremes a query (`min_ms=1e22`) or a row written by SQL can carry:
    /// every formatter answers, none traps (issue 9, item 2).
    func testFormatsAreTotal() {
        let extremes: [Double] = [
            0, -0.0, 1, -1, Double(Int64.max), Double(UInt64.max), 1e15, 1e22, -1e22, 1e308, -1e308,
            .greatestFiniteMagnitude, .leastNonzeroMagnitude, .nan, .infinity, -.infinity,
        ]
        for value in extremes {
            XCTAssertFalse(Format.duration(value).isEmpty, "\(value)")
            XCTAssertFalse(Format.decimals(value, 2).isEmpty, "\(value)")
            XCTAssertFalse(Format.percent(value).isEmpty, "\(value)")
            XCTAssertFalse(Format.plainNumber(value).isEmpty, "\(value)")
            XCTAssertFalse(Format.age(Date(timeIntervalSince1970: 0), now: Date(timeIntervalSince1970: value)).isEmpty)
        }
        XCTAssertEqual(Format.duration(1e22), "1e+19 s")
        XCTAssertEqual(Format.duration(.nan), "–")
        XCTAssertEqual(Format.duration(999_999_999_999_998_976), "16666666666666 m 39 s")
        XCTAssertEqual(Format.decimals(-1e22, 2), "-1e+22")
        XCTAssertEqual(Format.plainNumber(1e22), "1e+22")
        XCTAssertEqual(Format.age(Date(timeIntervalSince1970: 0), now: Date(timeIntervalSince1970: -.infinity)), "0 s ago")
        XCTAssertEqual(Format.age(Date(timeIntervalSince1970: 0), now: Date(timeIntervalSince1970: 86_400 * 3)), "3 d ago")
        XCTAssertEqual(Format.time(Date(timeIntervalSince1970: 18_446_744_073.709551)), "2554-07-21 23:34:33 UTC")
    }

    /// `q` is limited in Unicode scalars: a single grapheme of many combining marks no
    /// longer slips through as "one character" (issue 9, item 15).
    func testSearchLengthCountsScalars() throws {
        XCTAssertEqual(try TraceListQuery(["q": String(repeating: "é", count: 200)]).search?.unicodeScalars.count, 200)
        let bomb = "e" + String(repeating: "\u{301}", count: 5_000)
        XCTAssertEqual(bomb.count, 1)
        for tooLong in [bomb, String(repeating: "a", count: 201), String(repeating: "\u{1F600}", count: 201)] {
            XCTAssertThrowsError(try TraceListQuery(["q": tooLong])) { error in
                XCTAssertEqual((error as? BadQuery)?.message, "q must be at most 200 characters (Unicode scalar values)")
            }
        }
    }

    /// Every numeric query parameter with the numeric extremes: a value or a 400, and
    /// whatever is accepted renders (the filter summary formats `min_ms`).
    func testNumericParametersWithExtremes() {
        let extremes = [
            "0", "-0", "9223372036854775807", "18446744073709551615", "-9223372036854775809", "NaN", "nan",
            "inf", "Infinity", "-Infinity", "1e308", "1e309", "-1e308", "1e22", "4.9e-324", "0x10", " 1",
        ]
        for value in extremes {
            for name in ["min_ms", "limit", "page"] {
                if let query = try? TraceListQuery([name: value]) {
                    XCTAssertFalse(query.queryItems(page: query.page).isEmpty)
                    XCTAssertFalse(query.minDurationMs.map(Format.duration)?.isEmpty ?? false)
                    XCTAssertLessThanOrEqual(query.filter(now: Date()).offset, 10_000 * 100)
                }
            }
            for name in ["limit", "window", "refresh"] { _ = try? MetricsQuery([name: value]) }
        }
        XCTAssertEqual(try TraceListQuery(["min_ms": "1e22"]).minDurationMs, 1e22)
        XCTAssertThrowsError(try TraceListQuery(["min_ms": "NaN"]))
        XCTAssertThrowsError(try TraceListQuery(["min_ms": "1e309"]))
        XCTAssertThrowsError(try TraceListQuery(["page": "9223372036854775807"]))
    }

    /// The trace list's upper bound is the clock plus the skew ingestion allows.
    func testTraceListFilterHasAnUpperBound() throws {
        let now = Date(timeIntervalSince1970: 1_795_600_800)
        let filter = try TraceListQuery(["window": "1h"]).filter(now: now)
        XCTAssertEqual(filter.since, now.addingTimeInterval(-3_600))
        XCTAssertEqual(filter.until, now.addingTimeInterval(3_600))
    }
}

/// Times in the API and the embedded JSON.
final class APIJSONTests: XCTestCase {
    func testTimestampsKeepMicroseconds() throws {
        XCTAssertEqual(APIJSON.timestamp(Date(timeIntervalSince1970: 1_764_111_419.535224)), "2025-11-25T22:56:59.535224Z")
        XCTAssertEqual(APIJSON.timestamp(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000000Z")
        XCTAssertEqual(APIJSON.timestamp(Date(timeIntervalSince1970: 59.9999996)), "1970-01-01T00:01:00.000000Z")
        let encoded = String(decoding: try APIJSON.encoder().encode(["uri": "file:///docs/a"]), as: UTF8.self)
        XCTAssertEqual(encoded, #"{"uri":"file:///docs/a"}"#)
    }

    /// Dates PostgreSQL can hold but nanoseconds since 1970 cannot (before 1970, after
    /// 2554, `infinity`, read as ~year 294277) format as the nearest end of the range
    /// instead of trapping (issue 9, item 1).
    func testTimestampsAreTotal() throws {
        let last = "2554-07-21T23:34:33.709551Z"
        XCTAssertEqual(APIJSON.timestamp(Date(timeIntervalSince1970: 18_446_744_073.709551615)), last)
        for seconds in [18_446_744_074, 9_224_318_016_000, 1e300, .infinity, .greatestFiniteMagnitude] {
            XCTAssertEqual(APIJSON.timestamp(Date(timeIntervalSince1970: seconds)), last, "\(seconds)")
        }
        for seconds in [-1, -62_135_596_800, -.infinity, .nan, -1e300] {
            XCTAssertEqual(APIJSON.timestamp(Date(timeIntervalSince1970: seconds)), "1970-01-01T00:00:00.000000Z", "\(seconds)")
        }
        XCTAssertEqual(UnixTime.string(unixNano: .max, style: .postgres), "2554-07-21 23:34:33.709551+00")
        XCTAssertEqual(UnixTime.unixNano(clamping: 1.5), 1_500_000_000)
        // Non-finite durations (from `infinity` rows) do not fail the whole answer.
        let encoded = String(decoding: try APIJSON.encoder().encode(["d": Double.infinity]), as: UTF8.self)
        XCTAssertEqual(encoded, #"{"d":"Infinity"}"#)
    }
}

extension APIJSONTests {
    /// The calendar-free formatter agrees with Foundation's calendar from 1970 to 2370.
    func testTimestampsAgreeWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var seed: UInt64 = 12345
        for _ in 0..<2_000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let seconds = Double(Int64(seed >> 24) % 12_600_000_000)
            let date = Date(timeIntervalSince1970: seconds)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.000000Z", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            XCTAssertEqual(APIJSON.timestamp(date), expected)
        }
    }
}

/// The hand-written trace JSON decodes to what the page scripts and API clients read.
final class TraceJSONTests: XCTestCase {
    func testTimelineJSONIsValidEscapedAndComplete() throws {
        let now = Date(timeIntervalSince1970: 1_764_111_419.5)
        let hostile = "</script><!-- \u{2028}\"\\\n\u{1} é 😀"
        let span = StoredSpan(
            spanID: "00000000000000a1", parentSpanID: nil, name: hostile, kind: "server", operation: "tool_invoke",
            target: "t", serviceName: "s", scopeName: "scope", startTime: now, endTime: now.addingTimeInterval(0.0125),
            durationMs: 12.5, status: "error", statusMessage: "boom", attributesJSON: #"{"k":"<v>"}"#,
            resourceAttributesJSON: "{}", eventsJSON: "[]")
        let summary = TraceSummary(
            traceID: String(repeating: "ab", count: 16), rootName: hostile, serviceName: "s", startTime: now,
            endTime: span.endTime, durationMs: 12.5, spanCount: 1, errorCount: 1, status: "error", firstError: nil)
        let timeline = TraceTimeline(summary: summary, spans: [span])
        var writer = JSONText()
        timeline.write(into: &writer)
        let script = writer.string
        XCTAssertFalse(script.contains("<"))
        XCTAssertFalse(script.contains(">"))
        XCTAssertFalse(script.contains("&"))
        XCTAssertFalse(script.contains("\u{2028}"))
        let decoded = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(script.utf8)) as? [String: Any])
        let spans = try XCTUnwrap(decoded["spans"] as? [[String: Any]])
        XCTAssertEqual(spans.first?["name"] as? String, hostile)
        XCTAssertEqual(spans.first?["critical"] as? Bool, true)
        XCTAssertNil(spans.first?["parent_span_id"])
        XCTAssertEqual(spans.first?["duration_ms"] as? Double, 12.5)
        XCTAssertEqual(decoded["start"] as? String, "2025-11-25T22:56:59.500000Z")
        // The same members as JSONEncoder would write from the Codable conformance.
        let encoded = try XCTUnwrap(
            JSONSerialization.jsonObject(with: try APIJSON.encoder().encode(timeline)) as? NSDictionary)
        XCTAssertEqual(NSDictionary(dictionary: decoded), encoded)

        let payload = TraceDetailPayload(trace: timeline, spans: [span])
        let api = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(payload.json)) as? [String: Any])
        let details = try XCTUnwrap(api["spans"] as? [[String: Any]])
        XCTAssertEqual(details.first?["attributes"] as? String, #"{"k":"<v>"}"#)
        XCTAssertEqual(details.first?["scope_name"] as? String, "scope")
        XCTAssertEqual(details.first?["end_time"] as? String, "2025-11-25T22:56:59.512500Z")
    }
}

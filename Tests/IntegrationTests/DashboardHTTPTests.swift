import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ObservatoryConfiguration
import ObservatoryIngest
import ObservatoryMigrations
import ObservatoryStore
import ObservatoryWeb
import PostgresNIO
import XCTest

/// The dashboards and their JSON twins over HTTP, against real PostgreSQL.
final class DashboardHTTPTests: XCTestCase {
    static let hostileName = "<script>alert(1)</script>"
    static let hostileTarget = "\"><img src=x onerror=alert(1)>"

    private static func withApp(
        credentials: (user: String, password: String)? = nil, metricsEnabled: Bool = true,
        _ body: @Sendable (any TestClientProtocol, PostgresClient) async throws -> Void
    ) async throws {
        try await TestDatabase.withApp(
            { configuration in
                configuration.maxBodyBytes = 1 << 20
                configuration.dashboardRefreshSeconds = 60
                configuration.metricsEnabled = metricsEnabled
                configuration.adminUser = credentials?.user
                configuration.adminPassword = credentials?.password
            }, body)
    }

    /// A trace of three spans whose names and targets are hostile; returns its id.
    private static func storeHostileTrace(_ client: PostgresClient, failing: Bool = true) async throws -> TraceID {
        let trace = TraceID(high: UInt64.random(in: 1...UInt64.max), low: 7)
        let now = SpanFixtures.nowUnixNano() - 5_000_000_000
        var root = SpanFixtures.record(trace: trace, span: 1, name: hostileName, durationMillis: 100, base: now)
        root.operation = .toolInvoke
        root.target = hostileTarget
        root.status = failing ? .error : .ok
        root.statusMessage = failing ? "</script><b>boom</b>" : nil
        root.attributesJSON = #"{"note":"<img src=x onerror=alert(2)>"}"#
        var child = SpanFixtures.record(
            trace: trace, span: 2, parent: 1, name: "SELECT", startOffsetMillis: 10, durationMillis: 1_500, base: now)
        child.operation = .dbQuery
        child.target = "SELECT"
        // Where the failure began: the root failed because its query did.
        if failing {
            child.status = .error
            child.statusMessage = "canceling statement due to statement timeout"
        }
        let other = SpanFixtures.record(
            trace: trace, span: 3, parent: 1, name: "tail", startOffsetMillis: 5, durationMillis: 20, base: now)
        _ = try await SpanStore(client: client, logger: TestDatabase.logger).write([root, child, other])
        return trace
    }

    private static func text(_ response: TestResponse) -> String {
        String(buffer: response.body)
    }

    private static func json(_ response: TestResponse) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    func testPagesRenderTheSameRowsAsTheirJSONTwins() async throws {
        try await Self.withApp { client, database in
            let now = MetricFixtures.minuteAligned()
            try await MetricFixtures.insert(
                (0..<30).map {
                    MetricSpan(
                        target: "tool-\($0 % 12)", durationMs: Double($0), error: $0 % 9 == 0,
                        start: now.addingTimeInterval(-Double($0) * 60))
                },
                into: database)
            try await MetricsStore(client: database, logger: TestDatabase.logger).refresh(force: true, now: now)

            var names: [String] = []
            try await client.execute(uri: "/api/v1/metrics/tools?window=1h&limit=10&sort=p99&dir=desc", method: .get) {
                response in
                XCTAssertEqual(response.status, .ok)
                let answer = try Self.json(response)
                let rows = try XCTUnwrap(answer["rows"] as? [[String: Any]])
                XCTAssertEqual(rows.count, 10)
                names = rows.compactMap { $0["target"] as? String }
                let p99s = rows.compactMap { $0["p99_ms"] as? Double }
                XCTAssertEqual(p99s, p99s.sorted(by: >))
            }
            try await client.execute(uri: "/admin/observability/tools?window=1h&limit=10&sort=p99&dir=desc", method: .get) {
                response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "text/html; charset=utf-8")
                let html = Self.text(response)
                // The rows in the same order as the API's.
                var position = html.startIndex
                for name in names {
                    let found = try XCTUnwrap(html.range(of: ">\(name)<", range: position..<html.endIndex), name)
                    position = found.upperBound
                }
                XCTAssertTrue(html.contains("class=\"sorted-desc num\""), "the p99 header is marked as the sort column")
                XCTAssertTrue(html.contains("Charts need Chart.js") || html.contains("chart-data"))
            }
            // The fragment is the body alone, for auto-refresh to swap in.
            try await client.execute(uri: "/admin/observability/tools/fragment?window=1h", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let html = Self.text(response)
                XCTAssertFalse(html.contains("<html"))
                XCTAssertTrue(html.contains("id=\"metrics-table\""))
            }
            for path in [
                "/admin/observability/metrics", "/admin/observability/prompts", "/admin/observability/resources",
                "/admin/observability/traces", "/api/v1/metrics/summary", "/api/v1/traces",
            ] {
                try await client.execute(uri: path, method: .get) { XCTAssertEqual($0.status, .ok, path) }
            }
            try await client.execute(uri: "/admin/observability", method: .get) { response in
                XCTAssertEqual(response.status, .seeOther)
                XCTAssertEqual(response.headers[.location], "/admin/observability/metrics")
            }
        }
    }

    func testBadParametersAndUnknownTraces() async throws {
        try await Self.withApp { client, _ in
            try await client.execute(uri: "/admin/observability/tools?window=2h", method: .get) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertTrue(Self.text(response).contains("window must be one of 1h, 24h, 7d, 30d"))
            }
            try await client.execute(uri: "/api/v1/traces?min_ms=-5", method: .get) { response in
                XCTAssertEqual(response.status, .badRequest)
                let answer = try Self.json(response)
                XCTAssertEqual(answer["status"] as? Int, 400)
                XCTAssertTrue((answer["error"] as? String)?.contains("min_ms") == true)
            }
            try await client.execute(uri: "/api/v1/metrics/tools?sort=target%3BDROP", method: .get) {
                XCTAssertEqual($0.status, .badRequest)
            }
            let unknown = String(repeating: "ab", count: 16)
            try await client.execute(uri: "/admin/observability/traces/\(unknown)", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
                XCTAssertTrue(Self.text(response).contains("Trace not found"))
            }
            try await client.execute(uri: "/api/v1/traces/\(unknown)", method: .get) { XCTAssertEqual($0.status, .notFound) }
            try await client.execute(uri: "/admin/observability/traces/not-an-id", method: .get) {
                XCTAssertEqual($0.status, .badRequest)
            }
            try await client.execute(uri: "/api/v1/traces/\(String(repeating: "0", count: 32))", method: .get) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertEqual(response.headers[.cacheControl], "no-store")
            }
            // An empty value means the default.
            try await client.execute(uri: "/api/v1/metrics/tools?window=&limit=", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }

    func testHostileNamesAreEscapedEverywhere() async throws {
        try await Self.withApp { client, database in
            let trace = try await Self.storeHostileTrace(database)
            _ = try await CallStore(client: database, logger: TestDatabase.logger).assemble(settle: .zero, maxTraces: 1_000)
            try await MetricsStore(client: database, logger: TestDatabase.logger).refresh(force: true)
            let pages = [
                "/admin/observability/metrics?window=1h", "/admin/observability/tools?window=1h",
                "/admin/observability/traces?window=1h", "/admin/observability/traces/\(trace.hex)",
            ]
            for path in pages {
                try await client.execute(uri: path, method: .get) { response in
                    XCTAssertEqual(response.status, .ok, path)
                    let html = Self.text(response)
                    XCTAssertFalse(html.contains("<script>alert"), path)
                    XCTAssertFalse(html.contains("<img src=x"), path)
                    XCTAssertFalse(html.contains("<b>boom"), path)
                    XCTAssertTrue(
                        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&quot;&gt;&lt;img src=x"), path)
                }
            }
            try await client.execute(uri: "/admin/observability/traces/\(trace.hex)", method: .get) { response in
                let html = Self.text(response)
                // The timeline JSON cannot close its script element, yet decodes to the name.
                let start = try XCTUnwrap(html.range(of: #"<script type="application/json" id="trace-data">"#))
                let end = try XCTUnwrap(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
                let json = String(html[start.upperBound..<end.lowerBound])
                XCTAssertTrue(json.contains("\\u003cscript\\u003e"))
                let timeline = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                let spans = try XCTUnwrap(timeline["spans"] as? [[String: Any]])
                XCTAssertEqual(spans.first?["name"] as? String, Self.hostileName)
                // The slow database span is flagged, and the critical path marked.
                XCTAssertEqual(spans.first { $0["name"] as? String == "SELECT" }?["slow"] as? Bool, true)
                XCTAssertTrue(html.contains("slow query"))
            }
            try await client.execute(uri: "/api/v1/traces?window=1h&status=error", method: .get) { response in
                let traces = try XCTUnwrap(try Self.json(response)["traces"] as? [[String: Any]])
                let firstError = try XCTUnwrap(traces.first?["first_error"] as? [String: Any])
                XCTAssertEqual(firstError["name"] as? String, "SELECT")
                XCTAssertEqual(firstError["message"] as? String, "canceling statement due to statement timeout")
                // Times keep their microseconds.
                let start = try XCTUnwrap(traces.first?["start_time"] as? String)
                XCTAssertNotNil(start.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression), start)
            }
            try await client.execute(uri: "/api/v1/traces/\(trace.hex)", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let answer = try Self.json(response)
                let timeline = try XCTUnwrap(answer["trace"] as? [String: Any])
                XCTAssertEqual(timeline["span_count"] as? Int, 3)
                let spans = try XCTUnwrap(timeline["spans"] as? [[String: Any]])
                XCTAssertEqual(
                    spans.filter { $0["critical"] as? Bool == true }.compactMap { $0["name"] as? String },
                    [Self.hostileName, "SELECT"])
            }
        }
    }

    func testTraceListFilters() async throws {
        try await Self.withApp { client, database in
            let store = SpanStore(client: database, logger: TestDatabase.logger)
            let base = SpanFixtures.nowUnixNano() - 60_000_000_000
            var records: [SpanRecord] = []
            for index in 0..<25 {
                let trace = TraceID(high: UInt64(index + 1), low: 99)
                var root = SpanFixtures.record(
                    trace: trace, span: 1, name: index % 5 == 0 ? "special 50% root" : "root \(index)",
                    startOffsetMillis: UInt64(index) * 100, durationMillis: UInt64(10 + index * 10),
                    status: index % 4 == 0 ? .error : .ok, base: base)
                root.operation = .httpRequest
                var tool = SpanFixtures.record(
                    trace: trace, span: 2, parent: 1, startOffsetMillis: UInt64(index) * 100 + 1, base: base)
                tool.operation = .toolInvoke
                tool.target = index % 2 == 0 ? "even tool" : "odd tool"
                records += [root, tool]
            }
            _ = try await store.write(records)

            func ids(_ query: String) async throws -> (ids: [String], hasNext: Bool) {
                var result: ([String], Bool) = ([], false)
                try await client.execute(uri: "/api/v1/traces?\(query)", method: .get) { response in
                    XCTAssertEqual(response.status, .ok, query)
                    let answer = try Self.json(response)
                    result = (
                        (answer["traces"] as? [[String: Any]] ?? []).compactMap { $0["trace_id"] as? String },
                        answer["has_next"] as? Bool ?? false
                    )
                }
                return result
            }
            let failed = try await ids("status=error")
            XCTAssertEqual(failed.ids.count, 7)  // 0, 4, 8, … 24
            let slow = try await ids("min_ms=200")
            XCTAssertEqual(slow.ids.count, 6)  // durations 200…250 ms
            // "%" is a literal, not a wildcard: only the "special 50% root" traces.
            let search = try await ids("q=50%25")
            XCTAssertEqual(search.ids.count, 5)
            let underscore = try await ids("q=_")
            XCTAssertEqual(underscore.ids.count, 0)
            let even = try await ids("operation=tool_invoke&target=even%20tool")
            XCTAssertEqual(even.ids.count, 13)
            let evenFailed = try await ids("operation=tool_invoke&target=even%20tool&status=error")
            XCTAssertEqual(evenFailed.ids.count, 7)
            let pageOne = try await ids("limit=20")
            XCTAssertEqual(pageOne.ids.count, 20)
            XCTAssertTrue(pageOne.hasNext)
            let pageTwo = try await ids("limit=20&page=2")
            XCTAssertEqual(pageTwo.ids.count, 5)
            XCTAssertFalse(pageTwo.hasNext)
            XCTAssertTrue(Set(pageOne.ids).isDisjoint(with: pageTwo.ids))
            // Newest first.
            XCTAssertEqual(pageOne.ids.first, TraceID(high: 25, low: 99).hex)

            // 300 newer successful calls of the same tool: the failed ones are beyond the
            // first, small look at the newest spans, and are still found.
            var newer: [SpanRecord] = []
            for index in 0..<300 {
                let trace = TraceID(high: UInt64(1_000 + index), low: 99)
                var root = SpanFixtures.record(trace: trace, span: 1, startOffsetMillis: 10_000 + UInt64(index), base: base)
                root.operation = .httpRequest
                var tool = SpanFixtures.record(
                    trace: trace, span: 2, parent: 1, startOffsetMillis: 10_000 + UInt64(index), base: base)
                tool.operation = .toolInvoke
                tool.target = "even tool"
                newer += [root, tool]
            }
            _ = try await store.write(newer)
            let stillFailed = try await ids("operation=tool_invoke&target=even%20tool&status=error")
            XCTAssertEqual(stillFailed.ids.count, 7)
        }
    }

    func testAdminCredentialsProtectReadsButNotIngestion() async throws {
        try await Self.withApp(credentials: ("admin", "pa:ss wörd")) { client, _ in
            let good = "Basic " + Data("admin:pa:ss wörd".utf8).base64EncodedString()
            let wrong = "Basic " + Data("admin:guess".utf8).base64EncodedString()
            for path in [
                "/admin/observability/metrics", "/admin/observability/traces", "/api/v1/metrics/summary", "/api/v1/traces",
            ] {
                for authorization in [nil, wrong, "Bearer x", "Basic !!!"] {
                    var headers = HTTPFields()
                    if let authorization { headers[.authorization] = authorization }
                    try await client.execute(uri: path, method: .get, headers: headers) { response in
                        XCTAssertEqual(response.status, .unauthorized, "\(path) \(authorization ?? "none")")
                        XCTAssertEqual(response.headers[.wwwAuthenticate], #"Basic realm="MCP Observatory", charset="UTF-8""#)
                        if path.hasPrefix("/api/") {
                            XCTAssertEqual(try Self.json(response)["status"] as? Int, 401)
                        }
                    }
                }
                try await client.execute(uri: path, method: .get, headers: [.authorization: good]) {
                    XCTAssertEqual($0.status, .ok, path)
                }
            }
            // Ingestion, health and static files do not need the operators' password.
            let now = SpanFixtures.nowUnixNano()
            let span =
                #"{"spans":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"x","start_time":\#(now),"end_time":\#(now + 1000)}]}"#
            try await client.execute(
                uri: "/api/v1/spans", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: span)
            ) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/healthz", method: .get) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/static/observatory/gantt.js", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }

    func testMetricsTurnedOffShowANoticeAndKeepTraces() async throws {
        try await Self.withApp(metricsEnabled: false) { client, database in
            let trace = try await Self.storeHostileTrace(database, failing: false)
            for path in ["/admin/observability/metrics", "/admin/observability/tools", "/admin/observability/tools/fragment"] {
                try await client.execute(uri: path, method: .get) { response in
                    XCTAssertEqual(response.status, .ok, path)
                    XCTAssertTrue(Self.text(response).contains("OBSERVABILITY_METRICS_ENABLED=false"), path)
                    XCTAssertFalse(Self.text(response).contains("metrics-table"), path)
                }
            }
            for path in ["/api/v1/metrics/summary", "/api/v1/metrics/prompts"] {
                try await client.execute(uri: path, method: .get) { XCTAssertEqual($0.status, .notFound, path) }
            }
            try await client.execute(uri: "/admin/observability/traces/\(trace.hex)", method: .get) {
                XCTAssertEqual($0.status, .ok)
            }
            try await client.execute(uri: "/api/v1/traces", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }
}

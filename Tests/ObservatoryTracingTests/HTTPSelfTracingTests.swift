import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ObservatoryIngest
import ObservatoryStore
import ObservatoryWeb
import Tracing
import XCTest

@testable import ObservatoryTracing

/// Hummingbird's own `TracingMiddleware` recording through the self-tracer, as `serve`
/// wires it: the process-wide InstrumentationSystem is bootstrapped once for this test
/// process (it cannot be bootstrapped twice), into a sink the tests read.
final class HTTPSelfTracingTests: XCTestCase {
    static let sink: CollectingSink = {
        let sink = CollectingSink()
        InstrumentationSystem.bootstrap(SelfTracer(sampleRate: 1, exporter: sink))
        return sink
    }()

    struct Failure: Error {}

    func application(exclude: [String] = ["/healthz"]) -> some ApplicationProtocol {
        let router = Router(context: ObservatoryRequestContext.self)
        router.add(middleware: SelfTracingExclusionMiddleware(policy: TracePolicy(sampleRate: 1, excludePaths: exclude)))
        router.add(middleware: TracingMiddleware())
        router.get("/items/{id}") { _, _ in
            withSpan("SELECT observability.items", ofKind: .client) { _ in }
            return "ok"
        }
        router.get("/healthz") { _, _ in
            withSpan("SELECT 1", ofKind: .client) { _ in }
            return "ok"
        }
        router.get("/throws") { _, _ -> String in throw HTTPError(.internalServerError, message: "kaput") }
        router.get("/unavailable") { _, _ in Response(status: .serviceUnavailable) }
        router.get("/missing") { _, _ -> String in
            withSpan("SELECT observability.items", ofKind: .client) { _ in }
            throw HTTPError(.notFound)
        }
        router.get("/refused") { _, _ in
            withSpan("SELECT 1", ofKind: .client) { _ in }
            return Response(status: .unauthorized)
        }
        router.get("/invalid") { _, _ -> String in throw HTTPError(.badRequest, message: "no") }
        return Application(router: router)
    }

    override func setUp() {
        Self.sink.removeAll()
    }

    func testRequestSpanHasHTTPAttributesAndItsDBSpanNestedUnderIt() async throws {
        try await application().test(.router) { client in
            _ = try await client.execute(uri: "/items/42?debug=1", method: .get, headers: [.userAgent: "probe/1.0"])
        }
        let spans = Self.sink.all
        XCTAssertEqual(spans.count, 2, "\(spans.map(\.name))")
        let server = try XCTUnwrap(spans.first { $0.kind == .server })
        let db = try XCTUnwrap(spans.first { $0.kind == .client })
        XCTAssertEqual(server.name, "/items/{id}")
        XCTAssertEqual(server.attribute("http.request.method"), .string("GET"))
        XCTAssertEqual(server.attribute("http.route"), .string("/items/{id}"))
        XCTAssertEqual(server.attribute("url.path"), .string("/items/42"))
        XCTAssertEqual(server.attribute("http.response.status_code"), .int(200))
        XCTAssertEqual(server.attribute("user_agent.original"), .string("probe/1.0"))
        XCTAssertEqual(db.traceID, server.traceID)
        XCTAssertEqual(db.parentSpanID, server.spanID)
        XCTAssertGreaterThanOrEqual(db.startTimeUnixNano, server.startTimeUnixNano)
    }

    func testExcludedPathLeavesNoSpanAndNoDBSpan() async throws {
        try await application().test(.router) { client in
            _ = try await client.execute(uri: "/healthz", method: .get)
        }
        XCTAssertEqual(Self.sink.all.count, 0, "\(Self.sink.all.map(\.name))")
    }

    func testThrownServerErrorGivesAnErrorSpanWithAnExceptionEvent() async throws {
        try await application().test(.router) { client in
            let response = try await client.execute(uri: "/throws", method: .get)
            XCTAssertEqual(response.status, .internalServerError)
        }
        let span = try XCTUnwrap(Self.sink.all.first)
        XCTAssertEqual(span.statusCode, .error)
        XCTAssertEqual(span.attribute("http.response.status_code"), .int(500))
        let event = try XCTUnwrap(span.events.first)
        XCTAssertEqual(event.name, "exception")
        XCTAssertTrue(event.attributes.contains { $0.key == "exception.type" })
    }

    func testAnswered503IsAnErrorAndA400IsNot() async throws {
        try await application().test(.router) { client in
            _ = try await client.execute(uri: "/unavailable", method: .get)
            _ = try await client.execute(uri: "/invalid", method: .get)
        }
        let byPath = Dictionary(
            uniqueKeysWithValues: Self.sink.all.compactMap { span -> (String, SpanInput)? in
                guard case .string(let path)? = span.attribute("url.path") else { return nil }
                return (path, span)
            })
        XCTAssertEqual(byPath["/unavailable"]?.stored.status, .error)
        let invalid = try XCTUnwrap(byPath["/invalid"], "a 400 is stored")
        XCTAssertNotEqual(invalid.stored.status, .error, "a client error is not a server failure")
    }

    /// A path, query and user agent of kilobytes (a 400 is still stored) keep their first
    /// 256 bytes and say how much was cut (found by the black-box recheck of issue 9).
    func testClientChosenValuesAreCut() async throws {
        let long = String(repeating: "Z", count: 8_000)
        try await application().test(.router) { client in
            _ = try await client.execute(uri: "/invalid?q=\(long)", method: .get, headers: [.userAgent: "EVIL" + long])
            _ = try await client.execute(uri: "/items/\(long)", method: .get)
        }
        let spans = Self.sink.all.filter { $0.kind == .server }
        XCTAssertEqual(spans.count, 2)
        for span in spans {
            for key in ["url.path", "url.query", "user_agent.original"] {
                guard case .string(let value)? = span.attribute(key) else { continue }
                XCTAssertLessThanOrEqual(value.utf8.count, 256 + 40, key)  // the documented 256-byte bound and the marker
            }
        }
        let invalid = try XCTUnwrap(spans.first { $0.attribute("http.response.status_code") == .int(400) })
        XCTAssertEqual(
            invalid.attribute("url.query"), .string("q=" + String(long.prefix(254)) + "…[cut \(2 + 8_000 - 256) bytes]"))
        XCTAssertEqual(
            invalid.attribute("user_agent.original"),
            .string("EVIL" + String(long.prefix(252)) + "…[cut \(4 + 8_000 - 256) bytes]"))
        XCTAssertEqual(invalid.attribute("url.path"), .string("/invalid"), "a short value stays whole")
    }

    /// 404 (thrown by a route or by the router for an unknown path) and 401 answers leave
    /// no span, and the DB spans of those requests go with them.
    func testA404OrA401LeavesNoSpanAndNoDBSpan() async throws {
        try await application().test(.router) { client in
            for (uri, status) in [
                ("/missing", HTTPResponse.Status.notFound), ("/no/such/route", .notFound), ("/refused", .unauthorized),
                ("/items/7", .ok),
            ] {
                let response = try await client.execute(uri: uri, method: .get)
                XCTAssertEqual(response.status, status, uri)
            }
        }
        let spans = Self.sink.all
        XCTAssertEqual(spans.count, 2, "only /items/7 and its DB span: \(spans.map(\.name))")
        XCTAssertEqual(Set(spans.map(\.name)), ["/items/{id}", "SELECT observability.items"])
        XCTAssertEqual(Self.sink.discarded, 5, "3 server spans and 2 DB spans counted as not stored")
    }

    func testTraceparentHeaderContinuesTheCallersTrace() async throws {
        try await application().test(.router) { client in
            _ = try await client.execute(
                uri: "/items/1", method: .get,
                headers: [HTTPField.Name("traceparent")!: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
        }
        let server = try XCTUnwrap(Self.sink.all.first { $0.kind == .server })
        XCTAssertEqual(TraceID(bytes: server.traceID!)?.hex, "0af7651916cd43dd8448eb211c80319c")
        XCTAssertEqual(SpanID(bytes: server.parentSpanID!)?.hex, "b7ad6b7169203331")
    }
}

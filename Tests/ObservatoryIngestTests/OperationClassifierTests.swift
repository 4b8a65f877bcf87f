import ObservatoryStore
import XCTest

@testable import ObservatoryIngest

final class OperationClassifierTests: XCTestCase {
    private func classify(_ name: String, _ kind: SpanKind = .internal, _ attributes: [String: AttributeValue] = [:])
        -> Classified
    {
        let (operation, target) = OperationClassifier.classify(
            name: name, kind: kind,
            attributes: attributes.sorted { $0.key < $1.key }.map { Attribute(key: $0.key, value: $0.value) })
        return Classified(operation: operation, target: target)
    }

    private struct Classified: Equatable {
        var operation: SpanOperation
        var target: String?
        init(operation: SpanOperation, target: String?) {
            self.operation = operation
            self.target = target
        }
        init(_ operation: SpanOperation, _ target: String?) {
            self.init(operation: operation, target: target)
        }
    }

    private struct Outcome: Equatable {
        var status: SpanStatus
        var message: String?
        init(_ status: SpanStatus, _ message: String?) {
            self.status = status
            self.message = message
        }
    }

    func testMCPSemanticConventions() {
        XCTAssertEqual(
            classify(
                "tools/call get_weather", .server,
                ["mcp.method.name": .string("tools/call"), "gen_ai.tool.name": .string("get_weather")]
            ).target, "get_weather")
        XCTAssertEqual(
            classify("x", .server, ["mcp.method.name": .string("tools/call"), "gen_ai.tool.name": .string("t")]).operation,
            .toolInvoke)
        XCTAssertEqual(
            classify(
                "prompts/get summarize", .server,
                ["mcp.method.name": .string("prompts/get"), "gen_ai.prompt.name": .string("summarize")]),
            Classified(.promptRender, "summarize"))
        XCTAssertEqual(
            classify(
                "resources/read", .server,
                ["mcp.method.name": .string("resources/read"), "mcp.resource.uri": .string("file:///a.md")]),
            Classified(.resourceFetch, "file:///a.md"))
    }

    func testSpanNamesWithoutAttributes() {
        XCTAssertEqual(classify("tools/call search_docs"), Classified(.toolInvoke, "search_docs"))
        XCTAssertEqual(classify("prompts/get greet"), Classified(.promptRender, "greet"))
        XCTAssertEqual(classify("resources/read postgres://db/orders"), Classified(.resourceFetch, "postgres://db/orders"))
        XCTAssertEqual(classify("tools/call"), Classified(.toolInvoke, nil))
    }

    func testGenAIExecuteTool() {
        XCTAssertEqual(classify("execute_tool fetch_url"), Classified(.toolInvoke, "fetch_url"))
        XCTAssertEqual(
            classify("run", .internal, ["gen_ai.operation.name": .string("execute_tool"), "gen_ai.tool.name": .string("calc")]),
            Classified(.toolInvoke, "calc"))
    }

    func testContextForgeSpans() {
        XCTAssertEqual(classify("tool.invoke", .internal, ["tool.name": .string("weather")]), Classified(.toolInvoke, "weather"))
        XCTAssertEqual(classify("prompt.render", .internal, ["prompt.id": .string("p-1")]), Classified(.promptRender, "p-1"))
        XCTAssertEqual(
            classify("resource.read", .internal, ["resource.uri": .string("file:///x")]), Classified(.resourceFetch, "file:///x"))
    }

    func testAliases() {
        XCTAssertEqual(classify("call", .internal, ["mcp.tool.name": .string("a")]), Classified(.toolInvoke, "a"))
        XCTAssertEqual(classify("call", .internal, ["mcp.prompt.name": .string("b")]), Classified(.promptRender, "b"))
    }

    func testDatabaseSpansStableAndOld() {
        XCTAssertEqual(
            classify("q", .client, ["db.system.name": .string("postgresql"), "db.operation.name": .string("SELECT")]),
            Classified(.dbQuery, "SELECT"))
        XCTAssertEqual(
            classify("q", .client, ["db.system": .string("postgresql"), "db.statement": .string("  update t set a = 1")]),
            Classified(.dbQuery, "UPDATE"))
        XCTAssertEqual(classify("q", .client, ["db.system": .string("redis")]), Classified(.dbQuery, "redis"))
    }

    func testHTTPSpansStableAndOld() {
        XCTAssertEqual(
            classify("POST", .server, ["http.request.method": .string("POST"), "http.route": .string("/mcp")]),
            Classified(.httpRequest, "POST /mcp"))
        XCTAssertEqual(
            classify("GET", .server, ["http.method": .string("GET"), "http.target": .string("/items?id=3")]),
            Classified(.httpRequest, "GET /items"))
        XCTAssertEqual(
            classify(
                "GET", .client,
                ["http.request.method": .string("GET"), "url.full": .string("https://api.example.com/v1/x?key=1")]),
            Classified(.httpRequest, "GET /v1/x"))
    }

    func testUnknownIsInternalWithoutTarget() {
        XCTAssertEqual(classify("compute"), Classified(.internal, nil))
        XCTAssertEqual(classify("tools/callback"), Classified(.internal, nil))
        XCTAssertEqual(
            classify("tools/callback", .server, ["mcp.method.name": .string("tools/call")]), Classified(.toolInvoke, nil))
    }

    func testFirstMatchingRuleWins() {
        // An MCP span that also carries HTTP attributes is a tool call, not an HTTP request.
        XCTAssertEqual(classify("tools/call x", .server, ["http.request.method": .string("POST")]).operation, .toolInvoke)
    }

    // MARK: Errors

    private func outcome(
        _ status: SpanInput.StatusCode, _ message: String = "", _ kind: SpanKind = .internal,
        _ attributes: [String: AttributeValue] = [:], events: [EventInput] = []
    ) -> Outcome {
        let (stored, text) = OperationClassifier.outcome(
            status: status, message: message, kind: kind,
            attributes: attributes.map { Attribute(key: $0.key, value: $0.value) }, events: events)
        return Outcome(stored, text)
    }

    func testErrorsInferredFromAttributesDespiteOKStatus() {
        XCTAssertEqual(
            outcome(.ok, "", .internal, ["mcp.tool.is_error": .bool(true)]), Outcome(.error, "tool result reported isError"))
        XCTAssertEqual(
            outcome(.ok, "", .internal, ["rpc.jsonrpc.error_code": .int(-32602)]), Outcome(.error, "JSON-RPC error -32602"))
        XCTAssertEqual(
            outcome(
                .unset, "", .internal,
                ["rpc.jsonrpc.error_code": .int(-32602), "rpc.jsonrpc.error_message": .string("bad params")]),
            Outcome(.error, "bad params"))
        XCTAssertEqual(outcome(.ok, "", .internal, ["error.type": .string("TimeoutError")]), Outcome(.error, "TimeoutError"))
        XCTAssertEqual(outcome(.ok, "", .internal, ["isError": .string("True")]), Outcome(.error, "tool result reported isError"))
        XCTAssertEqual(outcome(.unset, "", .server, ["http.response.status_code": .int(503)]), Outcome(.error, "HTTP 503"))
    }

    func testNonErrors() {
        XCTAssertEqual(outcome(.ok), Outcome(.ok, nil))
        XCTAssertEqual(outcome(.unset), Outcome(.unset, nil))
        XCTAssertEqual(outcome(.ok, "", .internal, ["mcp.tool.is_error": .bool(false)]), Outcome(.ok, nil))
        // A client seeing a 404 is not an error of the server span kind rule.
        XCTAssertEqual(outcome(.unset, "", .client, ["http.response.status_code": .int(404)]), Outcome(.unset, nil))
        XCTAssertEqual(outcome(.unset, "", .server, ["http.response.status_code": .int(404)]), Outcome(.unset, nil))
    }

    func testErrorMessageFallsBackToException() {
        let event = EventInput(
            name: "exception", timeUnixNano: 1,
            attributes: [
                Attribute(key: "exception.type", value: .string("ValueError")),
                Attribute(key: "exception.message", value: .string("boom")),
            ])
        XCTAssertEqual(outcome(.error, "", .internal, [:], events: [event]), Outcome(.error, "boom"))
        XCTAssertEqual(outcome(.error, "explicit", .internal, [:], events: [event]), Outcome(.error, "explicit"))
    }
}

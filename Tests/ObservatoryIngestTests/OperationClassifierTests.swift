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

    func testMCPSDKClientSpanNamesItsTargetOnlyInTheName() {
        // mcp 2.3.0: `MCP send <method> [name]` with mcp.method.name and jsonrpc.request.id only.
        let sent: [String: AttributeValue] = ["jsonrpc.request.id": .int(3)]
        XCTAssertEqual(
            classify("MCP send tools/call add", .client, sent.merging(["mcp.method.name": .string("tools/call")]) { $1 }),
            Classified(.toolInvoke, "add"))
        XCTAssertEqual(
            classify("MCP send prompts/get greet", .client, sent.merging(["mcp.method.name": .string("prompts/get")]) { $1 }),
            Classified(.promptRender, "greet"))
        // The SDK sends no URI: the target stays unknown rather than invented.
        XCTAssertEqual(
            classify("MCP send resources/read", .client, sent.merging(["mcp.method.name": .string("resources/read")]) { $1 }),
            Classified(.resourceFetch, nil))
        // The prefix counts only before the method the attribute names.
        XCTAssertEqual(
            classify("MCP send tools/callback x", .client, ["mcp.method.name": .string("tools/call")]),
            Classified(.toolInvoke, nil))
    }

    func testLogfireSpans() {
        let client: [String: AttributeValue] = ["rpc.system": .string("jsonrpc"), "rpc.jsonrpc.version": .string("2.0")]
        XCTAssertEqual(
            classify(
                "MCP request: tools/call add", .internal,
                client.merging([
                    "rpc.method": .string("tools/call"),
                    "request": .string(#"{"method":"tools/call","params":{"name":"other","arguments":{"a":1}}}"#),
                ]) { $1 }),
            Classified(.toolInvoke, "add"))
        XCTAssertEqual(
            classify(
                "MCP request: prompts/get", .internal,
                client.merging([
                    "rpc.method": .string("prompts/get"),
                    "request": .string(#"{"method":"prompts/get","params":{"meta":null,"name":"greet","arguments":{}}}"#),
                ]) { $1 }),
            Classified(.promptRender, "greet"))
        XCTAssertEqual(
            classify(
                "MCP request: resources/read", .internal,
                client.merging([
                    "rpc.method": .string("resources/read"),
                    "request": .string(#"{"method":"resources/read","params":{"uri":"demo://readme"}}"#),
                ]) { $1 }),
            Classified(.resourceFetch, "demo://readme"))
        XCTAssertEqual(
            classify(
                "MCP server handle request: tools/call", .internal,
                ["request": .string(#"{"method": "tools/call", "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}"#)]),
            Classified(.toolInvoke, "add"))
        XCTAssertEqual(
            classify(
                "MCP server handle request: resources/read", .internal,
                ["request": .string(#"{"params":{"uri":"file:///a.md"},"method":"resources/read"}"#)]),
            Classified(.resourceFetch, "file:///a.md"))
        // Without a readable request the operation stands and the target is unknown.
        XCTAssertEqual(
            classify("MCP server handle request: prompts/get", .internal, ["request": .string("{\"params\":")]),
            Classified(.promptRender, nil))
        // Other methods and other JSON-RPC systems are not MCP calls.
        XCTAssertEqual(classify("MCP server handle request: tools/list"), Classified(.internal, nil))
        XCTAssertEqual(
            classify(
                "MCP request: tools/call x", .internal, ["rpc.method": .string("tools/call"), "rpc.system": .string("grpc")]),
            Classified(.internal, nil))
    }

    func testOpenLLMetrySpans() {
        XCTAssertEqual(
            classify(
                "add.tool", .internal,
                [
                    "traceloop.span.kind": .string("tool"), "traceloop.entity.name": .string("add"),
                    "traceloop.entity.input": .string(#"{"tool_name": "add", "arguments": {"a": 1, "b": 2}}"#),
                ]),
            Classified(.toolInvoke, "add"))
        XCTAssertEqual(
            classify(
                "prompts/get.mcp", .internal,
                [
                    "traceloop.entity.input": .string(
                        #"{"method":"prompts/get","params":{"meta":null,"name":"greet","arguments":null}}"#)
                ]
            ),
            Classified(.promptRender, "greet"))
        XCTAssertEqual(
            classify(
                "resources/read.mcp", .internal,
                ["traceloop.entity.input": .string(#"{"method":"resources/read","params":{"meta":null,"uri":"demo://readme"}}"#)]),
            Classified(.resourceFetch, "demo://readme"))
        XCTAssertEqual(classify("tools/list.mcp"), Classified(.internal, nil))
        XCTAssertEqual(classify("ResponseStreamWriter", .internal, ["mcp.request.id": .string("3")]), Classified(.internal, nil))
    }

    func testOpenInferenceToolSpans() {
        XCTAssertEqual(
            classify("add", .internal, ["openinference.span.kind": .string("TOOL"), "tool.name": .string("add")]),
            Classified(.toolInvoke, "add"))
        XCTAssertEqual(
            classify("run", .internal, ["openinference.span.kind": .string("tool"), "tool.name": .string("x")]),
            Classified(.toolInvoke, "x"))
        XCTAssertEqual(classify("agent", .internal, ["openinference.span.kind": .string("AGENT")]), Classified(.internal, nil))
    }

    func testContextForgeClientSpansNameTheUpstreamTool() {
        for name in ["mcp.client.call", "mcp.client.request", "mcp.client.response"] {
            XCTAssertEqual(
                classify(
                    name, .internal, ["mcp.tool.name": .string("add"), "contextforge.transport": .string("streamablehttp")]),
                Classified(.toolInvoke, "add"), name)
        }
        XCTAssertEqual(
            classify("tool.invoke", .internal, ["tool.name": .string("upstream-slug-add"), "success": .bool(false)]),
            Classified(.toolInvoke, "upstream-slug-add"))
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

    func testContextForgeSuccessFlags() {
        XCTAssertEqual(outcome(.ok, "", .internal, ["success": .bool(false)]), Outcome(.error, "success=false"))
        XCTAssertEqual(outcome(.ok, "", .internal, ["success": .string("False")]), Outcome(.error, "success=false"))
        XCTAssertEqual(
            outcome(.ok, "", .internal, ["upstream.response.success": .bool(false)]),
            Outcome(.error, "upstream.response.success=false"))
        XCTAssertEqual(outcome(.ok, "", .internal, ["success": .bool(true)]), Outcome(.ok, nil))
        XCTAssertEqual(outcome(.ok, "", .internal, ["success": .int(0)]), Outcome(.ok, nil))
    }

    func testRPCResponseStatusCode() {
        XCTAssertEqual(
            outcome(.unset, "", .client, ["rpc.response.status_code": .string("-32602")]), Outcome(.error, "RPC error -32602"))
        XCTAssertEqual(
            outcome(.error, "", .server, ["rpc.response.status_code": .int(-32002), "error.type": .string("-32002")]),
            Outcome(.error, "-32002"))
        // gRPC writes OK on success.
        XCTAssertEqual(outcome(.unset, "", .client, ["rpc.response.status_code": .string("OK")]), Outcome(.unset, nil))
        XCTAssertEqual(outcome(.unset, "", .client, ["rpc.response.status_code": .int(0)]), Outcome(.unset, nil))
    }

    func testErrorsInsideResultJSON() {
        let failed =
            #"{"meta":null,"content":[{"type":"text","text":"refused: not allowed"}],"structuredContent":null,"isError":true}"#
        XCTAssertEqual(outcome(.unset, "", .internal, ["response": .string(failed)]), Outcome(.error, "refused: not allowed"))
        XCTAssertEqual(outcome(.ok, "", .internal, ["output.value": .string(failed)]), Outcome(.error, "refused: not allowed"))
        // OpenLLMetry's own tool output: {"result": <first text>, "is_error": true}.
        XCTAssertEqual(
            outcome(.ok, "", .internal, ["traceloop.entity.output": .string(#"{"result": "no", "is_error": true}"#)]),
            Outcome(.error, "tool result reported isError"))
        // OpenLLMetry's server-side response value, and a JSON-RPC response around a result.
        XCTAssertEqual(
            outcome(.unset, "", .internal, ["mcp.response.value": .string(#"{"content": [], "isError": true}"#)]),
            Outcome(.error, "tool result reported isError"))
        XCTAssertEqual(
            outcome(
                .unset, "", .internal, ["response": .string(#"{"jsonrpc":"2.0","id":4,"result":{"isError":true,"content":[]}}"#)]),
            Outcome(.error, "tool result reported isError"))
        // A JSON-RPC error object: its message, else its code.
        XCTAssertEqual(
            outcome(
                .unset, "", .internal,
                ["response": .string(#"{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"Unknown resource"}}"#)]),
            Outcome(.error, "Unknown resource"))
        XCTAssertEqual(
            outcome(.unset, "", .internal, ["mcp.response.value": .string(#"{"error":{"code":-32603}}"#)]),
            Outcome(.error, "JSON-RPC error -32603"))
        // Logfire records an MCP 1.x server's error response as the bare error object.
        let bare = #"{"code":0,"message":"Unknown resource: res://docs/missing","data":null}"#
        XCTAssertEqual(
            outcome(.unset, "", .internal, ["response": .string(bare)]), Outcome(.error, "Unknown resource: res://docs/missing"))
        XCTAssertEqual(outcome(.unset, "", .internal, ["output.value": .string(bare)]), Outcome(.unset, nil))
        // The status message still comes first.
        XCTAssertEqual(outcome(.ok, "explicit", .internal, ["response": .string(failed)]), Outcome(.error, "explicit"))
        XCTAssertEqual(outcome(.error, "", .internal, ["response": .string(failed)]), Outcome(.error, "refused: not allowed"))
    }

    func testResultJSONThatIsNotAFailure() {
        let fine =
            #"{"content":[{"type":"text","text":"{\"isError\": true}"}],"structuredContent":{"isError":true},"isError":false}"#
        XCTAssertEqual(outcome(.unset, "", .internal, ["response": .string(fine)]), Outcome(.unset, nil))
        // Inputs are never read for errors, whatever they mention.
        let input = #"{"method":"tools/call","params":{"name":"x","arguments":{"isError":true}},"isError":true}"#
        for key in ["request", "traceloop.entity.input", "input.value"] {
            XCTAssertEqual(outcome(.unset, "", .internal, [key: .string(input)]), Outcome(.unset, nil), key)
        }
        // Not JSON, cut JSON, a string "error" value, an error that is not an object.
        XCTAssertEqual(outcome(.ok, "", .internal, ["response": .string("isError: true")]), Outcome(.ok, nil))
        XCTAssertEqual(
            outcome(.ok, "", .internal, ["response": .string(#"{"content":[{"text":"…[truncated 9 chars]"#)]), Outcome(.ok, nil))
        XCTAssertEqual(
            outcome(.ok, "", .internal, ["output.value": .string(#"{"status":"error","error":null}"#)]), Outcome(.ok, nil))
        XCTAssertEqual(outcome(.ok, "", .internal, ["output.value": .string(#"{"isError":"true"}"#)]), Outcome(.ok, nil))
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

import ObservatoryOTLP
import XCTest

/// The mix, errors, attributes and latencies the UI and ingest rely on seeing.
final class DemoTrafficContentTests: XCTestCase {
    var operations: [Span] { Sample.traces.compactMap(\.operation) }

    func testEveryTraceHasOneMCPOperationUnderAnHTTPRoot() {
        for trace in Sample.traces {
            let operations = trace.filter { $0.span.text("mcp.method.name") != nil }
            XCTAssertEqual(operations.count, 1)
            guard let root = trace.root, let operation = operations.first?.span else { continue }
            XCTAssertEqual(operation.parentSpanID, root.spanID)
            XCTAssertEqual(root.kind, .server)
            XCTAssertEqual(root.text("http.request.method"), "POST")
            XCTAssertEqual(root.text("http.route"), "/mcp")
            XCTAssertEqual(root.text("url.path"), "/mcp")
            XCTAssertNotNil(root.value("http.response.status_code"))
            XCTAssertNotNil(root.text("client.address"))
            XCTAssertNotNil(root.text("user_agent.original"))
            XCTAssertTrue(root.text("http.request.header.authorization")?.hasPrefix("Bearer sk-") == true)
            XCTAssertNotNil(root.text("http.request.header.cookie"))
        }
    }

    func testOperationMix() {
        let total = Double(operations.count)
        let share = { (method: String) in Double(self.operations.filter { $0.text("mcp.method.name") == method }.count) / total }
        XCTAssertEqual(share("tools/call"), 0.65, accuracy: 0.06)
        XCTAssertEqual(share("prompts/get"), 0.15, accuracy: 0.05)
        XCTAssertEqual(share("resources/read"), 0.20, accuracy: 0.05)
        XCTAssertGreaterThan(share("tools/call"), 0.5)
    }

    func testOperationAttributesFollowTheMCPConventions() {
        for operation in operations {
            XCTAssertNotNil(operation.text("mcp.session.id"), operation.name)
            XCTAssertNotNil(operation.text("jsonrpc.request.id"), operation.name)
            switch operation.text("mcp.method.name") {
            case "tools/call":
                let tool = operation.text("gen_ai.tool.name")
                XCTAssertNotNil(tool)
                XCTAssertEqual(operation.name, "tools/call \(tool ?? "")")
                XCTAssertEqual(operation.text("gen_ai.operation.name"), "execute_tool")
            case "prompts/get":
                XCTAssertEqual(operation.name, "prompts/get \(operation.text("gen_ai.prompt.name") ?? "-")")
            case "resources/read":
                XCTAssertEqual(operation.name, "resources/read \(operation.text("mcp.resource.uri") ?? "-")")
            default:
                XCTFail("unexpected method in \(operation.name)")
            }
        }
    }

    func testVariety() {
        let tools = Set(operations.compactMap { $0.text("gen_ai.tool.name") })
        let prompts = Set(operations.compactMap { $0.text("gen_ai.prompt.name") })
        let resources = Set(operations.compactMap { $0.text("mcp.resource.uri") })
        XCTAssertGreaterThanOrEqual(tools.count, 12)
        XCTAssertGreaterThanOrEqual(prompts.count, 5)
        XCTAssertGreaterThanOrEqual(resources.count, 7)
        XCTAssertTrue(resources.contains { $0.hasPrefix("file:///") })
        XCTAssertTrue(resources.contains { $0.hasPrefix("https://") })
        XCTAssertTrue(resources.contains { $0.hasPrefix("postgres://") })
        XCTAssertGreaterThan(Set(operations.compactMap { $0.text("mcp.session.id") }).count, 20)
    }

    func testErrorShare() {
        let failed = Sample.traces.filter { $0.contains { $0.span.reportsError } }
        let share = Double(failed.count) / Double(Sample.traces.count)
        XCTAssertGreaterThanOrEqual(share, 0.04)
        XCTAssertLessThanOrEqual(share, 0.15)
    }

    func testSomeToolsAreClearlyErrorProne() {
        func errorShare(_ tool: String) -> Double {
            let calls = Sample.traces.filter { $0.operation?.text("gen_ai.tool.name") == tool }
            return Double(calls.filter { $0.contains { $0.span.reportsError } }.count) / Double(max(calls.count, 1))
        }
        let failed = Sample.traces.filter { $0.contains { $0.span.reportsError } }.count
        let overall = Double(failed) / Double(Sample.traces.count)
        XCTAssertGreaterThan(errorShare("run_sql"), 2 * overall)
        XCTAssertGreaterThan(errorShare("fetch_url"), 1.5 * overall)
        XCTAssertLessThan(errorShare("list_files"), overall)
    }

    func testExceptionsCarryATracebackAndFailTheRoot() {
        let failing = Sample.traces.filter { $0.operation?.status.code == .error }
        XCTAssertFalse(failing.isEmpty)
        for trace in failing {
            guard let operation = trace.operation, let root = trace.root else { continue }
            let event = operation.events.first { $0.name == "exception" }
            XCTAssertNotNil(event, operation.name)
            let attributes = Dictionary(
                (event?.attributes ?? []).map { ($0.key, $0.value.stringValue) }, uniquingKeysWith: { a, _ in a })
            XCTAssertFalse(attributes["exception.type", default: ""].isEmpty)
            XCTAssertFalse(attributes["exception.message", default: ""].isEmpty)
            let stack = attributes["exception.stacktrace", default: ""]
            XCTAssertTrue(stack.hasPrefix("Traceback (most recent call last):"), stack)
            XCTAssertGreaterThan(stack.split(separator: "\n").count, 4)
            XCTAssertEqual(root.status.code, .error)
            XCTAssertEqual(root.text("error.type"), attributes["exception.type"])
            if let time = event?.timeUnixNano {
                XCTAssertTrue((operation.startTimeUnixNano...operation.endTimeUnixNano).contains(time))
            }
        }
    }

    func testJSONRPCErrorsLeaveStatusUnset() {
        let errors = operations.filter { $0.value("rpc.jsonrpc.error_code") != nil }
        XCTAssertTrue(errors.contains { $0.value("rpc.jsonrpc.error_code")?.intValue == -32602 })
        for operation in errors {
            XCTAssertNotEqual(operation.status.code, .error)
            XCTAssertNotNil(operation.text("rpc.jsonrpc.error_message"))
        }
    }

    func testToolErrorsKeepStatusOK() {
        let flagged = operations.filter { $0.value("mcp.tool.is_error")?.boolValue == true }
        XCTAssertFalse(flagged.isEmpty)
        XCTAssertTrue(flagged.allSatisfy { $0.status.code == .ok })
    }

    func testDatabaseSpansCarryLiterals() {
        let database = Sample.spans.filter { $0.span.text("db.system.name") != nil }
        XCTAssertGreaterThan(database.count, 100)
        for flat in database {
            let span = flat.span
            XCTAssertEqual(flat.service, "mcp-tools")
            XCTAssertEqual(span.kind, .client)
            XCTAssertEqual(span.text("db.system.name"), "postgresql")
            XCTAssertNotNil(span.text("db.operation.name"))
            XCTAssertNotNil(span.text("db.collection.name"))
            let query = span.text("db.query.text") ?? ""
            XCTAssertTrue(query.contains("'") || query.contains { $0.isNumber }, query)
        }
        XCTAssertTrue(database.contains { ($0.span.text("db.query.text") ?? "").contains("'") })
        XCTAssertTrue(database.contains { $0.span.durationMillis > 1_000 })
    }

    func testHTTPClientSpansCarryAnAPIKey() {
        let calls = Sample.spans.filter { $0.span.kind == .client && $0.span.text("url.full") != nil }
        XCTAssertFalse(calls.isEmpty)
        XCTAssertTrue(calls.contains { $0.span.text("http.request.method") == "GET" })
        XCTAssertTrue(
            calls.allSatisfy {
                $0.span.text("url.full")?.contains("?") == true && $0.span.text("url.full")?.contains("api_key=") == true
            })
        XCTAssertTrue(
            Sample.traces.contains { trace in
                trace.operation?.text("gen_ai.tool.name") == "fetch_url" && trace.contains { $0.span.text("url.full") != nil }
            })
    }

    func testLatencyDiffersByToolAndHasOutliers() {
        var byTool: [String: [Double]] = [:]
        for operation in operations where operation.value("rpc.jsonrpc.error_code") == nil {
            if let tool = operation.text("gen_ai.tool.name") { byTool[tool, default: []].append(operation.durationMillis) }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let fast = median(byTool["read_file"] ?? [0])
        let slow = median(byTool["summarize"] ?? [0])
        XCTAssertGreaterThan(fast, 3)
        XCTAssertLessThan(fast, 30)
        XCTAssertGreaterThan(slow, 200)
        XCTAssertLessThan(slow, 1_000)
        let outliers = byTool.values.reduce(0) { count, durations in
            let typical = median(durations)
            return count + durations.filter { $0 > 5 * typical }.count
        }
        XCTAssertGreaterThan(outliers, 0)
    }
}

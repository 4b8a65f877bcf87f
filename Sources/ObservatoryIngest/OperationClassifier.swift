import ObservatoryStore

/// Decides once, at ingest, what each span did (`operation`) and the name dashboards group
/// it by (`target`), and whether it failed. The rules are one ordered table; the first rule
/// that matches wins. docs/classification.md is this table in prose: change both together.
public enum OperationClassifier {
    /// A rule: when `matches` holds for a span, it is `operation` and `target` names it.
    struct Rule: Sendable {
        var source: String
        var operation: SpanOperation
        var matches: @Sendable (_ name: String, _ kind: SpanKind, _ attributes: [Attribute]) -> Bool
        var target: @Sendable (_ name: String, _ attributes: [Attribute]) -> String?
    }

    /// The MCP methods whose spans get an operation, and where each names its target.
    struct Method: Sendable {
        /// The JSON-RPC method, `tools/call`.
        var name: String
        var operation: SpanOperation
        /// Attributes naming the target, first one present wins.
        var targetKeys: [String]
        /// The member of the request's `params` that names the target: `name` or `uri`.
        var parameter: String

        /// The target from the attributes, else from the span name after the method, which
        /// may itself follow one of `prefixes` (`MCP send tools/call add`).
        func target(_ name: String, _ attributes: [Attribute], prefixes: [String] = [""]) -> String? {
            if let named = targetKeys.lazy.compactMap({ attributes.text($0) }).first { return named }
            return prefixes.lazy.compactMap { prefix in
                name.hasPrefix(prefix)
                    ? OperationClassifier.suffix(of: String(name.dropFirst(prefix.count)), after: self.name) : nil
            }.first
        }

        /// The target inside a JSON request held in attribute `key`: `params.name`, `params.uri`.
        func target(inRequest key: String, _ attributes: [Attribute]) -> String? {
            guard let request = attributes.text(key),
                case .string(let value)? = JSONPeek.value(at: ["params", parameter], in: request)
            else { return nil }
            return value
        }
    }

    static let methods = [
        Method(
            name: "tools/call", operation: .toolInvoke, targetKeys: ["gen_ai.tool.name", "mcp.tool.name"], parameter: "name"),
        Method(
            name: "prompts/get", operation: .promptRender, targetKeys: ["gen_ai.prompt.name", "mcp.prompt.name"],
            parameter: "name"),
        Method(name: "resources/read", operation: .resourceFetch, targetKeys: ["mcp.resource.uri"], parameter: "uri"),
    ]

    /// Logfire's span names: `MCP request: tools/call add` (client), `MCP server handle request: tools/call`.
    static let logfireClientPrefix = "MCP request: "
    static let logfireServerPrefix = "MCP server handle request: "

    static let rules: [Rule] =
        // OpenTelemetry MCP semantic conventions: mcp.method.name plus the gen_ai.* names. The
        // MCP SDK's client span has only the method: `MCP send tools/call add`.
        methods.map { method in
            Rule(
                source: "MCP semconv \(method.name)", operation: method.operation,
                matches: { _, _, a in a.text("mcp.method.name") == method.name },
                target: { n, a in method.target(n, a, prefixes: ["", "MCP send "]) })
        }
        // Span names of the MCP conventions without the attribute: "tools/call get_weather".
        + methods.map { method in
            Rule(
                source: "MCP span name \(method.name)", operation: method.operation,
                matches: { n, _, _ in startsWithMethod(n, method.name) },
                target: { n, a in method.target(n, a) })
        }
        // GenAI semantic conventions: the execute_tool span.
        + [
            Rule(
                source: "GenAI execute_tool", operation: .toolInvoke,
                matches: { n, _, a in a.text("gen_ai.operation.name") == "execute_tool" || startsWithMethod(n, "execute_tool") },
                target: { n, a in a.text("gen_ai.tool.name") ?? suffix(of: n, after: "execute_tool") })
        ]
        // Logfire's client span: JSON-RPC attributes, the tool name in the span name only, the
        // request as JSON in `request`.
        + methods.map { method in
            Rule(
                source: "Logfire client \(method.name)", operation: method.operation,
                matches: { _, _, a in a.text("rpc.method") == method.name && a.text("rpc.system") == "jsonrpc" },
                target: { n, a in method.target(n, [], prefixes: [logfireClientPrefix]) ?? method.target(inRequest: "request", a)
                })
        }
        // Logfire's server span: the method in the span name, the request as JSON in `request`.
        + methods.map { method in
            Rule(
                source: "Logfire server \(method.name)", operation: method.operation,
                matches: { n, _, _ in n.hasPrefix(logfireServerPrefix) && n.dropFirst(logfireServerPrefix.count) == method.name },
                target: { _, a in method.target(inRequest: "request", a) })
        }
        // OpenLLMetry (Traceloop): a tool call is `<name>.tool` with traceloop.span.kind=tool;
        // other methods are `<method>.mcp` with the request as JSON in traceloop.entity.input.
        + [
            Rule(
                source: "OpenLLMetry tool", operation: .toolInvoke,
                matches: { _, _, a in a.text("traceloop.span.kind") == "tool" },
                target: { _, a in a.text("traceloop.entity.name") })
        ]
        + methods.map { method in
            Rule(
                source: "OpenLLMetry \(method.name).mcp", operation: method.operation,
                matches: { n, _, _ in n.hasSuffix(".mcp") && n.dropLast(4) == method.name },
                target: { _, a in method.target(inRequest: "traceloop.entity.input", a) })
        }
        // OpenInference: a TOOL span names its tool in tool.name.
        + [
            Rule(
                source: "OpenInference TOOL", operation: .toolInvoke,
                matches: { _, _, a in a.text("openinference.span.kind")?.uppercased() == "TOOL" },
                target: { _, a in a.text("tool.name") })
        ]
        + [
            // ContextForge's own span names.
            Rule(
                source: "ContextForge tool.invoke", operation: .toolInvoke,
                matches: { n, _, _ in n == "tool.invoke" },
                target: { _, a in a.text("tool.name") ?? a.text("tool.id") }),
            Rule(
                source: "ContextForge prompt.render", operation: .promptRender,
                matches: { n, _, _ in n == "prompt.render" },
                target: { _, a in a.text("prompt.id") ?? a.text("prompt.name") }),
            Rule(
                source: "ContextForge resource.read", operation: .resourceFetch,
                matches: { n, _, _ in n == "resource.read" },
                target: { _, a in a.text("resource.uri") }),
            // Aliases some SDKs use without the method attribute (ContextForge's mcp.client.* spans).
            Rule(
                source: "alias mcp.tool.name", operation: .toolInvoke,
                matches: { _, _, a in a.text("mcp.tool.name") != nil },
                target: { _, a in a.text("mcp.tool.name") }),
            Rule(
                source: "alias mcp.prompt.name", operation: .promptRender,
                matches: { _, _, a in a.text("mcp.prompt.name") != nil },
                target: { _, a in a.text("mcp.prompt.name") }),
            Rule(
                source: "alias mcp.resource.uri", operation: .resourceFetch,
                matches: { _, _, a in a.text("mcp.resource.uri") != nil },
                target: { _, a in a.text("mcp.resource.uri") }),
            // Database client spans, stable (db.system.name, db.query.text) and older names.
            Rule(
                source: "DB client", operation: .dbQuery,
                matches: { _, _, a in a.text("db.system.name") != nil || a.text("db.system") != nil },
                target: { _, a in
                    a.text("db.operation.name") ?? a.text("db.operation")
                        ?? sqlOperation(a.text("db.query.text") ?? a.text("db.statement"))
                        ?? a.text("db.system.name") ?? a.text("db.system")
                }),
            // HTTP spans, stable (http.request.method, http.route, url.path) and older names.
            Rule(
                source: "HTTP", operation: .httpRequest,
                matches: { _, _, a in a.text("http.request.method") != nil || a.text("http.method") != nil },
                target: { _, a in
                    let method = a.text("http.request.method") ?? a.text("http.method") ?? "HTTP"
                    let path = a.text("http.route") ?? httpPath(of: a)
                    return path.map { "\(method) \($0)" } ?? method
                }),
        ]

    /// The operation and target of a span; `internal` with no target when no rule matches.
    public static func classify(name: String, kind: SpanKind, attributes: [Attribute]) -> (SpanOperation, String?) {
        for rule in rules where rule.matches(name, kind, attributes) {
            return (rule.operation, rule.target(name, attributes).flatMap { $0.isEmpty ? nil : $0 })
        }
        return (.internal, nil)
    }

    /// The path a request addressed, without its query string (which may carry secrets
    /// and makes every request a target of its own).
    static func httpPath(of attributes: [Attribute]) -> String? {
        if let path = attributes.text("url.path") { return path }
        if let target = attributes.text("http.target") { return String(target.prefix { $0 != "?" }) }
        if let full = attributes.text("url.full") ?? attributes.text("http.url") {
            let afterScheme = full.range(of: "://").map { full[$0.upperBound...] } ?? full[...]
            let path = afterScheme.drop { $0 != "/" }.prefix { $0 != "?" && $0 != "#" }
            return path.isEmpty ? "/" : String(path)
        }
        return nil
    }

    /// The leading keyword of a SQL statement (`SELECT`, `INSERT`, ...).
    static func sqlOperation(_ sql: String?) -> String? {
        guard let sql else { return nil }
        let keyword = sql.drop { !$0.isLetter }.prefix { $0.isLetter }
        return keyword.isEmpty ? nil : keyword.uppercased()
    }

    /// Whether a span name is `method` alone or `method` followed by a space and a name
    /// (`tools/call get_weather`), but not a longer word (`tools/callback`).
    static func startsWithMethod(_ name: String, _ method: String) -> Bool {
        name.hasPrefix(method) && (name.count == method.count || name.dropFirst(method.count).first == " ")
    }

    /// "get_weather" from "tools/call get_weather"; nil when nothing follows the prefix.
    static func suffix(of name: String, after prefix: String) -> String? {
        guard startsWithMethod(name, prefix) else { return nil }
        let rest = name.dropFirst(prefix.count).drop { $0 == " " }
        return rest.isEmpty ? nil : String(rest)
    }

    // MARK: Errors

    /// Attributes whose presence or truth marks a failed call even when the span's status
    /// says OK: MCP tool results with `isError`, JSON-RPC error codes, `error.type`.
    static let errorFlagKeys = [
        "mcp.tool.is_error", "mcp.tool.result.is_error", "tool.is_error", "mcp.is_error", "is_error", "isError",
    ]
    static let errorCodeKeys = ["rpc.jsonrpc.error_code", "jsonrpc.error.code", "mcp.error.code", "mcp.jsonrpc.error.code"]
    static let errorMessageKeys = ["rpc.jsonrpc.error_message", "jsonrpc.error.message", "mcp.error.message", "error.message"]
    /// Attributes that say whether a call succeeded; `false` marks a failure (ContextForge).
    static let successKeys = ["success", "upstream.response.success"]
    /// The RPC semantic conventions' status code, which the MCP conventions set to the
    /// JSON-RPC error code of a failed request. gRPC writes `OK` (or 0) on success.
    static let rpcStatusKey = "rpc.response.status_code"
    /// Attributes holding an MCP result or JSON-RPC response as JSON text: OpenLLMetry's client
    /// output and server response, OpenInference's output, Logfire's response. Inputs are
    /// never read for errors: a request may well mention `isError`.
    static let resultJSONKeys = ["traceloop.entity.output", "output.value", "response", "mcp.response.value"]

    /// The stored status and message of a span, with errors inferred from attributes and
    /// from HTTP 5xx answers of server spans. An `exception` event alone does not make a
    /// span failed (the code may have handled it); it only supplies the message of one.
    public static func outcome(
        status: SpanInput.StatusCode, message: String, kind: SpanKind, attributes: [Attribute], events: [EventInput]
    ) -> (SpanStatus, String?) {
        let exceptionMessage = events.first { $0.name == "exception" }.flatMap { event in
            event.attributes.text("exception.message") ?? event.attributes.text("exception.type")
        }
        let detail = errorMessageKeys.lazy.compactMap { attributes.text($0) }.first
        let errorType = attributes.text("error.type").flatMap { $0.isEmpty ? nil : $0 }
        let flagged = errorFlagKeys.contains { key in
            if case .bool(true) = attributes[key: key] { return true }
            return attributes.text(key)?.lowercased() == "true"
        }
        let unsuccessful = successKeys.first { key in attributes.text(key)?.lowercased() == "false" }
        let code = errorCodeKeys.lazy.compactMap { attributes.text($0) }.first
        let rpcStatus = attributes.text(rpcStatusKey).flatMap { $0.isEmpty || $0.uppercased() == "OK" || $0 == "0" ? nil : $0 }
        let httpStatus = (attributes.text("http.response.status_code") ?? attributes.text("http.status_code")).flatMap { Int($0) }
        let serverFailed = kind == .server && (httpStatus ?? 0) >= 500
        let text = message.isEmpty ? nil : message

        let signalled = errorType != nil || flagged || unsuccessful != nil || code != nil || rpcStatus != nil || serverFailed
        // The JSON results are read only when they can change the verdict or give the message.
        let settled = (status == .error || signalled) && (text ?? detail ?? errorType) != nil
        let result = settled ? nil : resultFailure(attributes)
        let resultMessage: String? = result.map {
            $0.message ?? $0.code.map { "JSON-RPC error \($0)" } ?? "tool result reported isError"
        }
        let codeMessage: String? = code.map { "JSON-RPC error \($0)" }
        let rpcMessage: String? = rpcStatus.map { "RPC error \($0)" }

        if status == .error {
            let candidates: [String?] = [text, detail, errorType, exceptionMessage, codeMessage, resultMessage, rpcMessage]
            return (.error, candidates.lazy.compactMap { $0 }.first)
        }
        if signalled || result != nil {
            let candidates: [String?] = [
                text, detail, errorType, codeMessage, resultMessage, rpcMessage, exceptionMessage,
                flagged ? "tool result reported isError" : nil, unsuccessful.map { "\($0)=false" },
                httpStatus.map { "HTTP \($0)" },
            ]
            return (.error, candidates.lazy.compactMap { $0 }.first)
        }
        return (status == .ok ? .ok : .unset, text)
    }

    /// The key whose JSON may be a bare JSON-RPC error object: Logfire records what an MCP 1.x
    /// server responds with, `{"code": 0, "message": "...", "data": null}` on failure. Other
    /// result keys may hold any tool output, where `code` and `message` are data.
    static let bareErrorKey = "response"

    /// The failure reported inside the first result attribute (``resultJSONKeys``) that
    /// reports one, or nil.
    static func resultFailure(_ attributes: [Attribute]) -> JSONPeek.Failure? {
        for attribute in attributes {
            guard case .string(let text) = attribute.value, resultJSONKeys.contains(attribute.key) else { continue }
            if let failure = JSONPeek.failure(in: text, bareError: attribute.key == bareErrorKey) { return failure }
        }
        return nil
    }
}

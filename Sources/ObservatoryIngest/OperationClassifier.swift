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

    static let rules: [Rule] = [
        // OpenTelemetry MCP semantic conventions: mcp.method.name plus the gen_ai.* names.
        Rule(
            source: "MCP semconv tools/call", operation: .toolInvoke,
            matches: { _, _, a in a.text("mcp.method.name") == "tools/call" },
            target: { n, a in a.text("gen_ai.tool.name") ?? a.text("mcp.tool.name") ?? suffix(of: n, after: "tools/call") }),
        Rule(
            source: "MCP semconv prompts/get", operation: .promptRender,
            matches: { _, _, a in a.text("mcp.method.name") == "prompts/get" },
            target: { n, a in a.text("gen_ai.prompt.name") ?? a.text("mcp.prompt.name") ?? suffix(of: n, after: "prompts/get") }),
        Rule(
            source: "MCP semconv resources/read", operation: .resourceFetch,
            matches: { _, _, a in a.text("mcp.method.name") == "resources/read" },
            target: { n, a in a.text("mcp.resource.uri") ?? suffix(of: n, after: "resources/read") }),
        // Span names of the MCP conventions without the attribute: "tools/call get_weather".
        Rule(
            source: "MCP span name tools/call", operation: .toolInvoke,
            matches: { n, _, _ in startsWithMethod(n, "tools/call") },
            target: { n, a in a.text("gen_ai.tool.name") ?? a.text("mcp.tool.name") ?? suffix(of: n, after: "tools/call") }),
        Rule(
            source: "MCP span name prompts/get", operation: .promptRender,
            matches: { n, _, _ in startsWithMethod(n, "prompts/get") },
            target: { n, a in a.text("gen_ai.prompt.name") ?? a.text("mcp.prompt.name") ?? suffix(of: n, after: "prompts/get") }),
        Rule(
            source: "MCP span name resources/read", operation: .resourceFetch,
            matches: { n, _, _ in startsWithMethod(n, "resources/read") },
            target: { n, a in a.text("mcp.resource.uri") ?? suffix(of: n, after: "resources/read") }),
        // GenAI semantic conventions: the execute_tool span.
        Rule(
            source: "GenAI execute_tool", operation: .toolInvoke,
            matches: { n, _, a in a.text("gen_ai.operation.name") == "execute_tool" || startsWithMethod(n, "execute_tool") },
            target: { n, a in a.text("gen_ai.tool.name") ?? suffix(of: n, after: "execute_tool") }),
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
        // Aliases some SDKs use without the method attribute.
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
        let code = errorCodeKeys.lazy.compactMap { attributes.text($0) }.first
        let httpStatus = (attributes.text("http.response.status_code") ?? attributes.text("http.status_code")).flatMap { Int($0) }
        let serverFailed = kind == .server && (httpStatus ?? 0) >= 500

        let inferredError = errorType != nil || flagged || code != nil || serverFailed
        let text = message.isEmpty ? nil : message
        if status == .error {
            return (.error, text ?? detail ?? errorType ?? exceptionMessage ?? code.map { "JSON-RPC error \($0)" })
        }
        if inferredError {
            let reason =
                text ?? detail ?? errorType ?? code.map { "JSON-RPC error \($0)" } ?? exceptionMessage
                ?? (flagged ? "tool result reported isError" : httpStatus.map { "HTTP \($0)" })
            return (.error, reason)
        }
        return (status == .ok ? .ok : .unset, text)
    }
}

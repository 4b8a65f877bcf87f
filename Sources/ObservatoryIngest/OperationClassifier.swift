import ObservatoryStore

/// Decides once, at ingest, what each span did (`operation`) and the name dashboards group
/// it by (`target`), and whether it failed. The rules are one ordered table; the first rule
/// that matches wins. docs/classification.md is this table in prose: change both together.
public enum OperationClassifier {
    /// A rule: when it matches a span, the span's operation and the target that names it
    /// (nil when the span does not say). Rules for the three MCP methods that differ only in
    /// the method are one rule that finds the method, so a span is asked each question once.
    struct Rule: Sendable {
        var source: String
        var apply: @Sendable (_ name: String, _ kind: SpanKind, _ attributes: IndexedAttributes) -> (SpanOperation, String?)?

        /// A rule of one operation.
        init(
            source: String, operation: SpanOperation,
            matches: @escaping @Sendable (_ name: String, _ kind: SpanKind, _ attributes: IndexedAttributes) -> Bool,
            target: @escaping @Sendable (_ name: String, _ attributes: IndexedAttributes) -> String?
        ) {
            self.source = source
            apply = { name, kind, attributes in
                matches(name, kind, attributes) ? (operation, target(name, attributes)) : nil
            }
        }

        /// A rule for each MCP method: `method` finds the span's method, if any, and
        /// `target` its target.
        init(
            source: String,
            method: @escaping @Sendable (_ name: String, _ kind: SpanKind, _ attributes: IndexedAttributes) -> Method?,
            target: @escaping @Sendable (_ method: Method, _ name: String, _ attributes: IndexedAttributes) -> String?
        ) {
            self.source = source
            apply = { name, kind, attributes in
                method(name, kind, attributes).map { ($0.operation, target($0, name, attributes)) }
            }
        }
    }

    /// The MCP methods whose spans get an operation, and where each names its target.
    struct Method: Sendable {
        /// The JSON-RPC method, `tools/call`.
        var name: String
        var operation: SpanOperation
        /// Attributes naming the target, first one present wins.
        var targetKeys: [KnownKey]
        /// The member of the request's `params` that names the target: `name` or `uri`.
        var parameter: String

        /// The target from the attributes, else from the span name after the method, which
        /// may itself follow one of `prefixes` (`MCP send tools/call add`).
        func target(_ name: String, _ attributes: IndexedAttributes?, prefixes: [String] = [""]) -> String? {
            if let attributes, let named = targetKeys.lazy.compactMap({ attributes.text($0) }).first { return named }
            return prefixes.lazy.compactMap { prefix in
                name.hasPrefix(prefix)
                    ? OperationClassifier.suffix(of: String(name.dropFirst(prefix.count)), after: self.name) : nil
            }.first
        }

        /// The target inside a JSON request held in attribute `key`: `params.name`, `params.uri`.
        func target(inRequest key: KnownKey, _ attributes: IndexedAttributes) -> String? {
            guard let request = attributes.text(key),
                case .string(let value)? = JSONPeek.value(at: ["params", parameter], in: request)
            else { return nil }
            return value
        }
    }

    static let methods = [
        Method(
            name: "tools/call", operation: .toolInvoke, targetKeys: [.genAiToolName, .mcpToolName],
            parameter: "name"),
        Method(
            name: "prompts/get", operation: .promptRender,
            targetKeys: [.genAiPromptName, .mcpPromptName],
            parameter: "name"),
        Method(
            name: "resources/read", operation: .resourceFetch, targetKeys: [.mcpResourceUri], parameter: "uri"),
    ]

    /// Logfire's span names: `MCP request: tools/call add` (client), `MCP server handle request: tools/call`.
    static let logfireClientPrefix = "MCP request: "
    static let logfireServerPrefix = "MCP server handle request: "

    /// The method named `name`, if it is one of ``methods``.
    static func method(named name: some StringProtocol) -> Method? {
        methods.first { $0.name == name }
    }

    static let rules: [Rule] =
        [
            // OpenTelemetry MCP semantic conventions: mcp.method.name plus the gen_ai.* names. The
            // MCP SDK's client span has only the method: `MCP send tools/call add`.
            Rule(
                source: "MCP semconv", method: { _, _, a in a.text(.mcpMethodName).flatMap(method(named:)) },
                target: { method, n, a in method.target(n, a, prefixes: ["", "MCP send "]) }),
            // Span names of the MCP conventions without the attribute: "tools/call get_weather".
            Rule(
                source: "MCP span name", method: { n, _, _ in methods.first { startsWithMethod(n, $0.name) } },
                target: { method, n, a in method.target(n, a) }),
        ]
        // GenAI semantic conventions: the execute_tool span.
        + [
            Rule(
                source: "GenAI execute_tool", operation: .toolInvoke,
                matches: { n, _, a in a.text(.genAiOperationName) == "execute_tool" || startsWithMethod(n, "execute_tool") },
                target: { n, a in a.text(.genAiToolName) ?? suffix(of: n, after: "execute_tool") })
        ]
        // Logfire's client span: JSON-RPC attributes, the tool name in the span name only, the
        // request as JSON in `request`.
        + [
            Rule(
                source: "Logfire client",
                method: { _, _, a in a.text(.rpcSystem) == "jsonrpc" ? a.text(.rpcMethod).flatMap(method(named:)) : nil },
                target: { method, n, a in
                    method.target(n, nil, prefixes: [logfireClientPrefix]) ?? method.target(inRequest: .request, a)
                }),
            // Logfire's server span: the method in the span name, the request as JSON in `request`.
            Rule(
                source: "Logfire server",
                method: { n, _, _ in
                    n.hasPrefix(logfireServerPrefix) ? method(named: n.dropFirst(logfireServerPrefix.count)) : nil
                },
                target: { method, _, a in method.target(inRequest: .request, a) }),
        ]
        // OpenLLMetry (Traceloop): a tool call is `<name>.tool` with traceloop.span.kind=tool;
        // other methods are `<method>.mcp` with the request as JSON in traceloop.entity.input.
        + [
            Rule(
                source: "OpenLLMetry tool", operation: .toolInvoke,
                matches: { _, _, a in a.text(.traceloopSpanKind) == "tool" },
                target: { _, a in a.text(.traceloopEntityName) })
        ]
        + [
            Rule(
                source: "OpenLLMetry method.mcp",
                method: { n, _, _ in n.hasSuffix(".mcp") ? method(named: n.dropLast(4)) : nil },
                target: { method, _, a in method.target(inRequest: .traceloopEntityInput, a) })
        ]
        // OpenInference: a TOOL span names its tool in tool.name.
        + [
            Rule(
                source: "OpenInference TOOL", operation: .toolInvoke,
                matches: { _, _, a in a.text(.openinferenceSpanKind)?.uppercased() == "TOOL" },
                target: { _, a in a.text(.toolName) })
        ]
        + [
            // ContextForge's own span names.
            Rule(
                source: "ContextForge tool.invoke", operation: .toolInvoke,
                matches: { n, _, _ in n == "tool.invoke" },
                target: { _, a in a.text(.toolName) ?? a.text(.toolId) }),
            Rule(
                source: "ContextForge prompt.render", operation: .promptRender,
                matches: { n, _, _ in n == "prompt.render" },
                target: { _, a in a.text(.promptId) ?? a.text(.promptName) }),
            Rule(
                source: "ContextForge resource.read", operation: .resourceFetch,
                matches: { n, _, _ in n == "resource.read" },
                target: { _, a in a.text(.resourceUri) }),
            // Aliases some SDKs use without the method attribute (ContextForge's mcp.client.* spans).
            Rule(
                source: "alias mcp.tool.name", operation: .toolInvoke,
                matches: { _, _, a in a.text(.mcpToolName) != nil },
                target: { _, a in a.text(.mcpToolName) }),
            Rule(
                source: "alias mcp.prompt.name", operation: .promptRender,
                matches: { _, _, a in a.text(.mcpPromptName) != nil },
                target: { _, a in a.text(.mcpPromptName) }),
            Rule(
                source: "alias mcp.resource.uri", operation: .resourceFetch,
                matches: { _, _, a in a.text(.mcpResourceUri) != nil },
                target: { _, a in a.text(.mcpResourceUri) }),
            // Database client spans, stable (db.system.name, db.query.text) and older names.
            Rule(
                source: "DB client", operation: .dbQuery,
                matches: { _, _, a in a.text(.dbSystemName) != nil || a.text(.dbSystem) != nil },
                target: { _, a in
                    a.text(.dbOperationName) ?? a.text(.dbOperation)
                        ?? sqlOperation(a.text(.dbQueryText) ?? a.text(.dbStatement))
                        ?? a.text(.dbSystemName) ?? a.text(.dbSystem)
                }),
            // HTTP spans, stable (http.request.method, http.route, url.path) and older names.
            Rule(
                source: "HTTP", operation: .httpRequest,
                matches: { _, _, a in a.text(.httpRequestMethod) != nil || a.text(.httpMethod) != nil },
                target: { _, a in
                    let method = a.text(.httpRequestMethod) ?? a.text(.httpMethod) ?? "HTTP"
                    let path = a.text(.httpRoute) ?? httpPath(of: a)
                    return path.map { "\(method) \($0)" } ?? method
                }),
        ]

    /// The operation and target of a span; `internal` with no target when no rule matches.
    public static func classify(name: String, kind: SpanKind, attributes: [Attribute]) -> (SpanOperation, String?) {
        classify(name: name, kind: kind, attributes: IndexedAttributes(attributes))
    }

    static func classify(name: String, kind: SpanKind, attributes: IndexedAttributes) -> (SpanOperation, String?) {
        for rule in rules {
            if let (operation, target) = rule.apply(name, kind, attributes) {
                return (operation, target.flatMap { $0.isEmpty ? nil : $0 })
            }
        }
        return (.internal, nil)
    }

    /// The path a request addressed, without its query string (which may carry secrets
    /// and makes every request a target of its own).
    static func httpPath(of attributes: IndexedAttributes) -> String? {
        if let path = attributes.text(.urlPath) { return path }
        if let target = attributes.text(.httpTarget) { return beforeQuery(target) }
        if let full = attributes.text(.urlFull) ?? attributes.text(.httpUrl) {
            // Searched in UTF-8 bytes, by hand: every delimiter is ASCII, and Foundation's
            // `range(of:)`, the generic `firstRange(of:)` and a walk by characters each took
            // a sixth of the pipeline's time on HTTP spans.
            let utf8 = full.utf8
            var afterScheme = utf8.startIndex
            var index = utf8.startIndex
            while let colon = utf8[index...].firstIndex(of: UInt8(ascii: ":")) {
                index = utf8.index(after: colon)
                let second = index < utf8.endIndex && utf8[index] == UInt8(ascii: "/") ? utf8.index(after: index) : nil
                if let second, second < utf8.endIndex, utf8[second] == UInt8(ascii: "/") {
                    afterScheme = utf8.index(after: second)
                    break
                }
            }
            guard let slash = utf8[afterScheme...].firstIndex(of: UInt8(ascii: "/")) else { return "/" }
            let end = utf8[slash...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
            return String(full[slash..<end])
        }
        return nil
    }

    /// A request target without its query string.
    static func beforeQuery(_ target: String) -> String {
        guard let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(target[..<question])
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
    static let errorFlagKeys: [KnownKey] = [
        .mcpToolIsError, .mcpToolResultIsError, .toolIsError, .mcpIsError, .isErrorSnakeCase, .isError,
    ]
    static let errorCodeKeys: [KnownKey] = [.rpcJsonrpcErrorCode, .jsonrpcErrorCode, .mcpErrorCode, .mcpJsonrpcErrorCode]
    static let errorMessageKeys: [KnownKey] = [.rpcJsonrpcErrorMessage, .jsonrpcErrorMessage, .mcpErrorMessage, .errorMessage]
    /// Attributes that say whether a call succeeded; `false` marks a failure (ContextForge).
    static let successKeys: [KnownKey] = [.success, .upstreamResponseSuccess]
    /// The RPC semantic conventions' status code, which the MCP conventions set to the
    /// JSON-RPC error code of a failed request. gRPC writes `OK` (or 0) on success.
    static let rpcStatusKey = KnownKey.rpcResponseStatusCode
    /// Attributes holding an MCP result or JSON-RPC response as JSON text: OpenLLMetry's client
    /// output and server response, OpenInference's output, Logfire's response. Inputs are
    /// never read for errors: a request may well mention `isError`.
    static let resultJSONKeys = ["traceloop.entity.output", "output.value", "response", "mcp.response.value"]
    static let resultJSONKeySet = Set(resultJSONKeys)
    static let resultJSONKeyIDs = resultJSONKeys.map(KnownKey.init)

    /// The stored status and message of a span, with errors inferred from attributes and
    /// from HTTP 5xx answers of server spans. An `exception` event alone does not make a
    /// span failed (the code may have handled it); it only supplies the message of one.
    public static func outcome(
        status: SpanInput.StatusCode, message: String, kind: SpanKind, attributes: [Attribute], events: [EventInput]
    ) -> (SpanStatus, String?) {
        outcome(status: status, message: message, kind: kind, attributes: IndexedAttributes(attributes), events: events)
    }

    static func outcome(
        status: SpanInput.StatusCode, message: String, kind: SpanKind, attributes: IndexedAttributes, events: [EventInput]
    ) -> (SpanStatus, String?) {
        let exceptionMessage = events.first { $0.name == "exception" }.flatMap { event in
            event.attributes.text("exception.message") ?? event.attributes.text("exception.type")
        }
        let detail = errorMessageKeys.lazy.compactMap { attributes.text($0) }.first
        let errorType = attributes.text(.errorType).flatMap { $0.isEmpty ? nil : $0 }
        let flagged = errorFlagKeys.contains { key in
            if case .bool(true) = attributes[key] { return true }
            return attributes.text(key)?.lowercased() == "true"
        }
        let unsuccessful = successKeys.first { key in attributes.text(key)?.lowercased() == "false" }.map(\.name)
        let code = errorCodeKeys.lazy.compactMap { attributes.text($0) }.first
        let rpcStatus = attributes.text(rpcStatusKey).flatMap { $0.isEmpty || $0.uppercased() == "OK" || $0 == "0" ? nil : $0 }
        let httpStatus = (attributes.text(.httpResponseStatusCode) ?? attributes.text(.httpStatusCode)).flatMap { Int($0) }
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
    static func resultFailure(_ attributes: IndexedAttributes) -> JSONPeek.Failure? {
        // Most spans carry none of these keys: the index says so without a scan.
        guard resultJSONKeyIDs.contains(where: attributes.contains) else { return nil }
        for attribute in attributes.attributes {
            guard case .string(let text) = attribute.value, resultJSONKeySet.contains(attribute.key) else { continue }
            if let failure = JSONPeek.failure(in: text, bareError: attribute.key == bareErrorKey) { return failure }
        }
        return nil
    }
}

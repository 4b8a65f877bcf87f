/// How one MCP operation (a tool, a prompt or a resource) behaves in the demo:
/// how often it is called, how long it takes, how often and how it fails, and
/// what it calls downstream. Distinct profiles make dashboards show distinct
/// stories (fast file tools, slow model calls, an error-prone `run_sql`).
struct OperationProfile: Sendable {
    enum Method: String, Sendable {
        case toolsCall = "tools/call"
        case promptsGet = "prompts/get"
        case resourcesRead = "resources/read"
    }

    let method: Method
    /// Tool name, prompt name or resource URI.
    let target: String
    /// Relative frequency within its method.
    let weight: Double
    let medianMillis: Double
    /// Spread of the log-normal latency.
    let sigma: Double
    /// Share of calls that fail in any way.
    let errorRate: Double
    var dbCalls: ClosedRange<Int> = 0...0
    var queries: [QueryTemplate] = []
    var http: HTTPCallTemplate? = nil
    /// The argument a JSON-RPC "invalid params" error complains about.
    var argument: String = "arguments"
    /// Exceptions the handler itself raises.
    var failures: [DemoFailure] = [
        DemoFailures.generic("ValueError", "unexpected argument value", "raise ValueError(\"unexpected argument value\")")
    ]

    var spanName: String { "\(method.rawValue) \(target)" }

    var dispatcher: String {
        switch method {
        case .toolsCall: "call_tool"
        case .promptsGet: "get_prompt"
        case .resourcesRead: "read_resource"
        }
    }

    var handlerFile: String {
        switch method {
        case .toolsCall: "/app/mcp_tools/tools/\(target).py"
        case .promptsGet: "/app/mcp_tools/prompts.py"
        case .resourcesRead: "/app/mcp_tools/resources.py"
        }
    }

    var handlerFunction: String {
        switch method {
        case .toolsCall, .promptsGet: target
        case .resourcesRead: "read_\(target.prefix { $0 != ":" })_resource"
        }
    }
}

/// The demo gateway's tools, prompts and resources, with the operation mix.
enum DemoCatalog {
    /// Share of traces per method: tools dominate, as on real gateways.
    static let methodWeights: [(OperationProfile.Method, Double)] = [
        (.toolsCall, 0.65), (.promptsGet, 0.15), (.resourcesRead, 0.20),
    ]

    static func operations(for method: OperationProfile.Method) -> [OperationProfile] {
        switch method {
        case .toolsCall: tools
        case .promptsGet: prompts
        case .resourcesRead: resources
        }
    }

    static let tools: [OperationProfile] = [
        OperationProfile(
            method: .toolsCall, target: "get_weather", weight: 12, medianMillis: 140, sigma: 0.45, errorRate: 0.04,
            dbCalls: 0...1, queries: [DemoQueries.weatherCache], http: DemoHTTPCalls.weather, argument: "city"),
        OperationProfile(
            method: .toolsCall, target: "search_docs", weight: 14, medianMillis: 180, sigma: 0.5, errorRate: 0.03,
            dbCalls: 1...2, queries: [DemoQueries.searchDocuments, DemoQueries.documentBody], argument: "query"),
        OperationProfile(
            method: .toolsCall, target: "create_issue", weight: 5, medianMillis: 420, sigma: 0.4, errorRate: 0.06,
            dbCalls: 0...1, queries: [DemoQueries.auditLog], http: DemoHTTPCalls.githubIssue, argument: "title"),
        OperationProfile(
            method: .toolsCall, target: "run_sql", weight: 8, medianMillis: 60, sigma: 0.9, errorRate: 0.30,
            dbCalls: 1...3, queries: [DemoQueries.orders, DemoQueries.revenue, DemoQueries.customers, DemoQueries.shipOrder],
            argument: "query",
            failures: [
                DemoFailures.generic(
                    "PermissionError", "statement type DROP is not allowed for this tool",
                    "raise PermissionError(f\"statement type {kind} is not allowed for this tool\")")
            ]),
        OperationProfile(
            method: .toolsCall, target: "send_email", weight: 4, medianMillis: 380, sigma: 0.5, errorRate: 0.05,
            dbCalls: 0...1, queries: [DemoQueries.outbox], http: DemoHTTPCalls.email, argument: "to"),
        OperationProfile(
            method: .toolsCall, target: "fetch_url", weight: 9, medianMillis: 450, sigma: 0.7, errorRate: 0.20,
            dbCalls: 0...1, queries: [DemoQueries.urlCache], http: DemoHTTPCalls.scraper, argument: "url"),
        OperationProfile(
            method: .toolsCall, target: "summarize", weight: 8, medianMillis: 650, sigma: 0.35, errorRate: 0.04, argument: "text",
            failures: [
                DemoFailures.generic(
                    "openai.RateLimitError", "Error code: 429 - Rate limit reached for requests",
                    "completion = await llm.chat.completions.create(**request)")
            ]),
        OperationProfile(
            method: .toolsCall, target: "translate", weight: 5, medianMillis: 520, sigma: 0.35, errorRate: 0.03,
            dbCalls: 0...1, queries: [DemoQueries.translationMemory], argument: "target_language",
            failures: [
                DemoFailures.generic("TimeoutError", "model did not answer within 30 s", "async with asyncio.timeout(30):")
            ]),
        OperationProfile(
            method: .toolsCall, target: "list_files", weight: 7, medianMillis: 9, sigma: 0.4, errorRate: 0.02, argument: "path",
            failures: [
                DemoFailures.generic(
                    "NotADirectoryError", "[Errno 20] Not a directory: '/srv/data/report.csv'", "entries = os.listdir(path)")
            ]),
        OperationProfile(
            method: .toolsCall, target: "read_file", weight: 9, medianMillis: 6, sigma: 0.5, errorRate: 0.05, argument: "path",
            failures: [
                DemoFailures.generic(
                    "FileNotFoundError", "[Errno 2] No such file or directory: '/srv/data/q3.csv'",
                    "with open(path, encoding=\"utf-8\") as handle:")
            ]),
        OperationProfile(
            method: .toolsCall, target: "write_file", weight: 4, medianMillis: 14, sigma: 0.5, errorRate: 0.05,
            argument: "content",
            failures: [
                DemoFailures.generic(
                    "PermissionError", "[Errno 13] Permission denied: '/srv/data/readonly/notes.md'",
                    "with open(path, \"w\", encoding=\"utf-8\") as handle:")
            ]),
        OperationProfile(
            method: .toolsCall, target: "calendar_lookup", weight: 4, medianMillis: 45, sigma: 0.4, errorRate: 0.03,
            dbCalls: 1...1, queries: [DemoQueries.calendarEvents], argument: "calendar_id"),
        OperationProfile(
            method: .toolsCall, target: "stock_quote", weight: 4, medianMillis: 160, sigma: 0.4, errorRate: 0.05,
            dbCalls: 0...1, queries: [DemoQueries.quotes], http: DemoHTTPCalls.stockQuote, argument: "symbol"),
        OperationProfile(
            method: .toolsCall, target: "geocode", weight: 4, medianMillis: 75, sigma: 0.4, errorRate: 0.03,
            dbCalls: 0...1, queries: [DemoQueries.geocodeCache], http: DemoHTTPCalls.geocode, argument: "address"),
        OperationProfile(
            method: .toolsCall, target: "image_caption", weight: 3, medianMillis: 780, sigma: 0.3, errorRate: 0.06,
            argument: "image_url",
            failures: [
                DemoFailures.generic(
                    "PIL.UnidentifiedImageError", "cannot identify image file <_io.BytesIO object at 0x7f3a2c1e9b20>",
                    "image = Image.open(io.BytesIO(payload))")
            ]),
    ]

    static let prompts: [OperationProfile] = [
        "summarize_thread", "code_review", "draft_reply", "explain_error", "meeting_notes", "sql_helper",
    ].map { name in
        OperationProfile(
            method: .promptsGet, target: name, weight: 1, medianMillis: 12, sigma: 0.5, errorRate: 0.05,
            dbCalls: 0...1, queries: [DemoQueries.promptTemplate], argument: "language",
            failures: [
                DemoFailures.generic(
                    "jinja2.exceptions.UndefinedError", "'ticket' is undefined", "text = template.render(**arguments)")
            ])
    }

    static let resources: [OperationProfile] = [
        fileResource("file:///srv/docs/handbook.md", weight: 4),
        fileResource("file:///srv/data/report-2025-q2.csv", weight: 2),
        fileResource("file:///etc/mcp/config.yaml", weight: 1),
        OperationProfile(
            method: .resourcesRead, target: "https://wiki.example.com/pages/onboarding", weight: 2, medianMillis: 220, sigma: 0.5,
            errorRate: 0.10,
            http: DemoHTTPCalls.wiki, argument: "uri"),
        OperationProfile(
            method: .resourcesRead, target: "https://api.github.com/repos/acme/widgets/readme", weight: 1, medianMillis: 260,
            sigma: 0.5, errorRate: 0.10,
            http: DemoHTTPCalls.githubReadme, argument: "uri"),
        tableResource("customers", weight: 2),
        tableResource("orders", weight: 3),
        tableResource("invoices", weight: 1),
    ]

    private static func fileResource(_ uri: String, weight: Double) -> OperationProfile {
        let path = String(uri.dropFirst("file://".count))
        return OperationProfile(
            method: .resourcesRead, target: uri, weight: weight, medianMillis: 4, sigma: 0.5, errorRate: 0.10, argument: "uri",
            failures: [
                DemoFailures.generic(
                    "FileNotFoundError", "[Errno 2] No such file or directory: '\(path)'", "with open(path, \"rb\") as handle:")
            ])
    }

    private static func tableResource(_ table: String, weight: Double) -> OperationProfile {
        OperationProfile(
            method: .resourcesRead, target: "postgres://db/\(table)", weight: weight, medianMillis: 25, sigma: 0.6,
            errorRate: 0.10,
            dbCalls: 1...1, queries: [DemoQueries.tableRead(table)], argument: "uri")
    }
}

import Foundation
import Hummingbird
import Logging
import ObservatoryConfiguration
import ObservatoryStore

/// The admin pages under /admin/observability, server-rendered, with the HTML fragments
/// that auto-refresh swaps in.
public struct DashboardController: Sendable {
    let data: DashboardData
    /// The saved views: the navigation's list, and the views pages.
    let views: SavedViewStore
    let renderer: PageRenderer
    let chartsAvailable: Bool
    let refreshSeconds: Int
    /// OBSERVABILITY_METRICS_ENABLED: when false the metric pages say so instead of
    /// showing figures nobody refreshes.
    let metricsEnabled: Bool
    /// The stores read from a hot standby (`OBSERVABILITY_READ_DATABASE_URL`): the pages say
    /// how far behind it is, and its failures are named as the read replica's.
    let readReplica: Bool
    /// The standby's status for the request being answered (see ``reading(_:)``).
    var replica: ReplicaStatus?
    let logger: Logger

    public init(
        metrics: MetricsStore, traces: TraceStore, calls: CallStore, views: SavedViewStore, renderer: PageRenderer,
        chartsAvailable: Bool,
        refreshSeconds: Int, metricsEnabled: Bool = true, readReplica: Bool = false, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.data = DashboardData(metrics: metrics, traces: traces, calls: calls, now: now)
        self.views = views
        self.renderer = renderer
        self.chartsAvailable = chartsAvailable
        self.refreshSeconds = refreshSeconds
        self.metricsEnabled = metricsEnabled
        self.readReplica = readReplica
        self.logger = logger
    }

    /// This controller for one request: with the standby's status that
    /// ``ReadReplicaMiddleware`` found, for the page header.
    func reading(_ context: some ReplicaStatusRequestContext) -> DashboardController {
        var controller = self
        controller.replica = context.replica
        return controller
    }

    static let metricsOffText =
        "Metrics are turned off on this server (\(ObservatoryConfiguration.key(for: \.metricsEnabled))=false): the metric views are not refreshed. Traces are still stored and shown under Traces."

    /// The routes, under `group` (the /admin group, which carries the Basic auth
    /// middleware when credentials are configured).
    public func addRoutes<Context: ReplicaStatusRequestContext>(to group: RouterGroup<Context>) {
        group.get { _, _ in Response.redirect(to: "/admin/observability/metrics") }
        group.get("observability") { _, _ in Response.redirect(to: "/admin/observability/metrics") }
        group.get("observability/metrics") { request, context in await reading(context).summary(request, fragment: false) }
        group.get("observability/metrics/fragment") { request, context in
            await reading(context).summary(request, fragment: true)
        }
        for page in OperationPage.allCases {
            group.get("observability/\(page.rawValue)") { request, context in
                await reading(context).operations(page, request, fragment: false)
            }
            group.get("observability/\(page.rawValue)/fragment") { request, context in
                await reading(context).operations(page, request, fragment: true)
            }
        }
        group.get("observability/traces") { request, context in await reading(context).traceList(request) }
        group.get("observability/traces/:id") { request, context in
            await reading(context).trace(context.parameters.get("id") ?? "", request.queryDictionary)
        }
        group.get("observability/sessions/:id") { _, context in
            await reading(context).session(context.parameters.get("id"))
        }
        addViewRoutes(to: group)
        group.get("observability/exemplar") { request, context in await reading(context).exemplar(request) }
        group.get("observability/compare") { request, context in await reading(context).compare(request) }
    }

    /// The chrome of a page with the saved views in its navigation, and on a list page
    /// (`save` set) the form that saves its filters.
    func chrome(
        _ title: String, active: KeyPath<Chrome, Bool>? = nil, save: (page: SavedViewPage, items: [URLQueryItem])?
    ) async -> Chrome {
        var chrome = chrome(title, active: active)
        chrome.views = await savedViews().map(SavedViewLink.init)
        if let save {
            chrome.saveView = SaveViewForm(page: save.page.rawValue, query: queryString(save.items))
        }
        return chrome
    }

    func chrome(_ title: String, active: KeyPath<Chrome, Bool>? = nil) -> Chrome {
        var chrome = Chrome(
            title: title, chartsAvailable: chartsAvailable, refreshSeconds: refreshSeconds,
            replica: readReplica ? ReplicaLag.line(replica) : nil)
        switch active {
        case \Chrome.navSummary: chrome.navSummary = true
        case \Chrome.navTools: chrome.navTools = true
        case \Chrome.navPrompts: chrome.navPrompts = true
        case \Chrome.navResources: chrome.navResources = true
        case \Chrome.navTraces: chrome.navTraces = true
        default: break
        }
        return chrome
    }

    func summary(_ request: Request, fragment: Bool) async -> Response {
        guard metricsEnabled else { return message(.ok, title: "Metrics are turned off", text: Self.metricsOffText) }
        return await answer(title: "Summary") {
            let query = try MetricsQuery(request.queryDictionary, defaultLimit: 10)
            let payload = try await data.summary(query)
            let chrome =
                fragment
                ? chrome("Summary", active: \.navSummary)
                : await chrome("Summary", active: \.navSummary, save: (.metrics, query.queryItems))
            let view = try SummaryView(query: query, payload: payload, chrome: chrome, now: data.now())
            return renderer.html(fragment ? "summary_body" : "summary", view)
        }
    }

    func operations(_ page: OperationPage, _ request: Request, fragment: Bool) async -> Response {
        guard metricsEnabled else { return message(.ok, title: "Metrics are turned off", text: Self.metricsOffText) }
        return await answer(title: page.title) {
            let query = try MetricsQuery(request.queryDictionary)
            let payload = try await data.operations(page, query)
            let active: KeyPath<Chrome, Bool> =
                switch page {
                case .tools: \.navTools
                case .prompts: \.navPrompts
                case .resources: \.navResources
                }
            let savedPage = SavedViewPage(rawValue: page.rawValue) ?? .tools
            let chrome =
                fragment
                ? chrome(page.title, active: active)
                : await chrome(page.title, active: active, save: (savedPage, query.queryItems))
            let view = try OperationView(page: page, query: query, payload: payload, chrome: chrome, now: data.now())
            return renderer.html(fragment ? "operations_body" : "operations", view)
        }
    }

    func traceList(_ request: Request) async -> Response {
        await answer(title: "Traces") {
            let query = try TraceListQuery(request)
            let payload = try await data.traceList(query)
            let chrome = await chrome("Traces", active: \.navTraces, save: (.traces, query.queryItems(page: 1)))
            return renderer.html("traces", TraceListView(query: query, payload: payload, chrome: chrome))
        }
    }

    func trace(_ id: String, _ parameters: [String: String]) async -> Response {
        await answer(title: "Trace") {
            let traceID = try parseTraceID(id)
            let query = try TracePageQuery(parameters)
            guard let payload = try await data.trace(traceID) else {
                return message(
                    .notFound, title: "Trace not found",
                    text:
                        "No trace with id \(traceID.hex) is stored. It may not have arrived yet, may have been sampled out, or may be older than the retention period."
                )
            }
            let chrome = await chrome("Trace \(traceID.hex)", active: \.navTraces, save: nil)
            let view = try await TraceWork.run { try TraceView(payload: payload, chrome: chrome, query: query) }
            return renderer.html("trace", view)
        }
    }

    /// The requests of one MCP session (`mcp.session.id`), in order. An unknown session
    /// is an empty list, not a 404: its calls may not be assembled yet.
    func session(_ id: String?) async -> Response {
        await answer(title: "Session") {
            let sessionID = try parseSessionParameter(id)
            let payload = try await data.session(sessionID)
            let chrome = await chrome("Session \(sessionID)", active: \.navTraces, save: nil)
            return renderer.html("session", SessionView(payload: payload, chrome: chrome))
        }
    }

    /// Runs `body`, turning its failures into pages (see ``RequestFailure``): 400 for a
    /// bad parameter, 503 when the database cannot answer (never its raw error text).
    func answer(title: String, _ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            let failure = requestFailure(error, readReplica: readReplica)
            if failure.isServerSide {
                logger.error("dashboard page failed", metadata: ["page": "\(title)", "error": "\(error)"])
            }
            return failurePage(failure)
        }
    }

    /// The message page of a failure with its status and `Retry-After`.
    func failurePage(_ failure: some RequestFailure) -> Response {
        var response = page(for: failure)
        if let seconds = failure.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    /// The message page of a failure: what it means to someone at a browser.
    func page(for failure: some RequestFailure) -> Response {
        let (title, text): (String, String) =
            switch failure {
            case let failure as BadQuery: ("Bad request", failure.clientMessage)
            case let failure as ReadReplicaFailure where failure.status == .serviceUnavailable:
                ("Read replica unavailable", sentence(failure.clientMessage) + " Try again in a moment.")
            case let failure as ReadReplicaFailure:
                ("Read replica error", sentence(failure.clientMessage) + " The server log has the details.")
            case let failure as DatabaseError where failure.status == .serviceUnavailable:
                ("Database unavailable", failure.clientMessage + "; try again in a moment.")
            case let failure as DatabaseError: ("Database error", failure.clientMessage + "; the server log has the details.")
            default: ("Something went wrong", "The page could not be built; the server log has the details.")
            }
        return message(failure.status, title: title, text: text)
    }

    /// `text` with a capital first letter and a full stop.
    func sentence(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst() + (text.hasSuffix(".") ? "" : ".")
    }

    struct MessageView {
        var chrome: Chrome
        var heading: String
        var text: String
        var status: Int
    }

    func message(_ status: HTTPResponse.Status, title: String, text: String) -> Response {
        renderer.html(
            "message", MessageView(chrome: chrome(title), heading: title, text: text, status: status.code), status: status)
    }
}

import Foundation
import Hummingbird
import ObservatoryStore

/// A query parameter a dashboard route cannot use; answered with 400 and this message.
struct BadQuery: Error {
    var message: String
}

/// The metric pages: one template, three kinds of operation.
enum OperationPage: String, CaseIterable, Sendable {
    case tools, prompts, resources

    var operation: SpanOperation {
        switch self {
        case .tools: .toolInvoke
        case .prompts: .promptRender
        case .resources: .resourceFetch
        }
    }

    var title: String { rawValue.capitalized }
    /// What one row is, for the table's first column and the notices.
    var noun: String {
        switch self {
        case .tools: "tool"
        case .prompts: "prompt"
        case .resources: "resource"
        }
    }
    var nameHeader: String { self == .resources ? "Resource URI" : "Name" }
}

/// The filters of the metric pages and their JSON twins, read from the URL so that a view
/// can be shared by its address. Missing parameters take defaults; wrong ones are refused.
struct MetricsQuery: Sendable, Equatable {
    static let limits = [10, 20, 50, 100]

    var window: MetricWindow = .day
    var limit: Int = 20
    var sort: MetricSort = .count
    var descending = true
    var autoRefresh = false
    /// Only this MCP server's rows.
    var server: String?

    init(_ raw: [String: String], defaultLimit: Int = 20) throws(BadQuery) {
        // An empty value means the default, as a form with nothing chosen sends it.
        let parameters = raw.filter { !$0.value.trimmingCharacters(in: .whitespaces).isEmpty }
        limit = defaultLimit
        if let value = parameters["server"] { server = try parseName(value, parameter: "server") }
        if let value = parameters["window"] { window = try parseWindow(value) }
        if let value = parameters["limit"] { limit = try parseLimit(value, allowed: Self.limits) }
        if let value = parameters["sort"] {
            guard let sort = MetricSort(rawValue: value) else {
                let allowed = MetricSort.allCases.map(\.rawValue).joined(separator: ", ")
                throw BadQuery(message: "sort must be one of \(allowed) (got \(value.debugDescription))")
            }
            self.sort = sort
        }
        if let value = parameters["dir"] {
            guard value == "asc" || value == "desc" else {
                throw BadQuery(message: "dir must be asc or desc (got \(value.debugDescription))")
            }
            descending = value == "desc"
        }
        autoRefresh = parameters["refresh"] == "1"
    }

    /// The query string that reproduces this view (the fragment and row links use it).
    var queryItems: [URLQueryItem] {
        var items = [
            URLQueryItem(name: "window", value: window.rawValue), URLQueryItem(name: "limit", value: String(limit)),
            URLQueryItem(name: "sort", value: sort.rawValue), URLQueryItem(name: "dir", value: descending ? "desc" : "asc"),
        ]
        if let server { items.append(URLQueryItem(name: "server", value: server)) }
        return items
    }
}

/// The trace list's filters.
struct TraceListQuery: Sendable, Equatable {
    static let limits = [20, 50, 100]

    var window: MetricWindow = .day
    var status: SpanStatus?
    var operation: SpanOperation?
    var target: String?
    var minDurationMs: Double?
    var search: String?
    /// The root service; the service's own traces are listed only when this names them.
    var service: String?
    /// The MCP server of the requests (a tools, prompts or resources row's server).
    var server: String?
    var maxDurationMs: Double?
    /// The MCP session (`mcp.session.id`) of the requests.
    var session: String?
    /// `attr` conditions (AttributeCondition+parse.swift), in the order given.
    var attributes: [AttributeCondition] = []
    var limit = 50
    var page = 1

    /// The longest `q`, in Unicode scalar values.
    static let maxSearchScalars = 200

    /// The statuses a trace can have (never `unset`).
    static let statuses: [SpanStatus] = [.ok, .error]

    /// `parameters` are the single-valued ones; `attributes` every `attr` value
    /// (``Request/queryValues(_:)``), as a repeated parameter.
    init(_ parameters: [String: String], attributes: [String] = []) throws(BadQuery) {
        func nonEmpty(_ name: String) -> String? {
            guard let value = parameters[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        // PostgreSQL text cannot hold NUL, and no name or target contains control characters.
        for name in ["target", "q"] {
            if let value = parameters[name], containsControlCharacters(value) {
                throw BadQuery(message: "\(name) must not contain control characters")
            }
        }
        if let value = nonEmpty("window") { window = try parseWindow(value) }
        if let value = nonEmpty("status") {
            guard let status = SpanStatus(rawValue: value), Self.statuses.contains(status) else {
                let allowed = Self.statuses.map(\.rawValue).joined(separator: " or ")
                throw BadQuery(message: "status must be \(allowed) (got \(value.debugDescription))")
            }
            self.status = status
        }
        if let value = nonEmpty("operation") {
            guard let operation = SpanOperation(rawValue: value) else {
                let allowed = SpanOperation.allCases.map(\.rawValue).joined(separator: ", ")
                throw BadQuery(message: "operation must be one of \(allowed) (got \(value.debugDescription))")
            }
            self.operation = operation
        }
        target = nonEmpty("target")
        if let value = nonEmpty("service") { service = try parseName(value, parameter: "service") }
        if let value = nonEmpty("server") { server = try parseName(value, parameter: "server") }
        if target != nil, operation == nil {
            throw BadQuery(message: "target needs operation as well (a target is named within its operation kind)")
        }
        for name in ["min_ms", "max_ms"] {
            guard let value = nonEmpty(name) else { continue }
            guard let ms = Double(value), ms.isFinite, ms >= 0 else {
                throw BadQuery(message: "\(name) must be a number of milliseconds, 0 or more (got \(value.debugDescription))")
            }
            if name == "min_ms" { minDurationMs = ms } else { maxDurationMs = ms }
        }
        if let min = minDurationMs, let max = maxDurationMs, max < min {
            throw BadQuery(message: "max_ms must not be less than min_ms")
        }
        if let value = nonEmpty("session") { session = try parseName(value, parameter: "session") }
        self.attributes = try AttributeCondition.parseAll(attributes)
        if let value = nonEmpty("q") {
            // Unicode scalars, not Characters: one grapheme can hold any number of combining
            // marks, so counting graphemes bounds nothing.
            guard value.unicodeScalars.count <= Self.maxSearchScalars else {
                throw BadQuery(message: "q must be at most \(Self.maxSearchScalars) characters (Unicode scalar values)")
            }
            search = value
        }
        if let value = nonEmpty("limit") { limit = try parseLimit(value, allowed: Self.limits) }
        if let value = nonEmpty("page") {
            guard let page = Int(value), (1...10_000).contains(page) else {
                throw BadQuery(message: "page must be a number from 1 to 10000 (got \(value.debugDescription))")
            }
            self.page = page
        }
    }

    func filter(now: Date) -> TraceFilter {
        TraceFilter(
            since: now.addingTimeInterval(-Double(window.seconds)), until: SpanTimeRange.latestShown(now: now),
            status: status, operation: operation, target: target, minDurationMs: minDurationMs, search: search,
            service: service, server: server, maxDurationMs: maxDurationMs, session: session, attributes: attributes,
            limit: limit, offset: (page - 1) * limit)
    }

    /// The query string of this filter on another page.
    func queryItems(page: Int) -> [URLQueryItem] {
        var items = filterItems
        items.append(URLQueryItem(name: "limit", value: String(limit)))
        if page > 1 { items.append(URLQueryItem(name: "page", value: String(page))) }
        return items
    }

    /// The query string of the filters alone, without paging: what an export takes.
    var filterItems: [URLQueryItem] {
        var items = [URLQueryItem(name: "window", value: window.rawValue)]
        if let status { items.append(URLQueryItem(name: "status", value: status.rawValue)) }
        if let operation { items.append(URLQueryItem(name: "operation", value: operation.rawValue)) }
        if let target { items.append(URLQueryItem(name: "target", value: target)) }
        if let minDurationMs { items.append(URLQueryItem(name: "min_ms", value: Format.plainNumber(minDurationMs))) }
        if let search { items.append(URLQueryItem(name: "q", value: search)) }
        if let service { items.append(URLQueryItem(name: "service", value: service)) }
        if let server { items.append(URLQueryItem(name: "server", value: server)) }
        if let maxDurationMs { items.append(URLQueryItem(name: "max_ms", value: Format.plainNumber(maxDurationMs))) }
        if let session { items.append(URLQueryItem(name: "session", value: session)) }
        items += attributes.map { URLQueryItem(name: "attr", value: $0.text) }
        return items
    }
}

/// The `window` parameter of every dashboard route.
func parseWindow(_ value: String) throws(BadQuery) -> MetricWindow {
    guard let window = MetricWindow(rawValue: value) else {
        let allowed = MetricWindow.allCases.map(\.rawValue).joined(separator: ", ")
        throw BadQuery(message: "window must be one of \(allowed) (got \(value.debugDescription))")
    }
    return window
}

/// The longest server, service or session name a filter takes, in Unicode scalar values.
let maxNameScalars = 500

/// A name parameter (`server`, `service`, `session`): no control characters (PostgreSQL
/// text cannot hold NUL, and no name has them) and at most ``maxNameScalars`` long.
func parseName(_ value: String, parameter: String) throws(BadQuery) -> String {
    guard !containsControlCharacters(value) else {
        throw BadQuery(message: "\(parameter) must not contain control characters")
    }
    guard value.unicodeScalars.count <= maxNameScalars else {
        throw BadQuery(message: "\(parameter) must be at most \(maxNameScalars) characters (Unicode scalar values)")
    }
    return value
}

/// Whether `text` holds a C0 control character or DEL: never part of a name, a target or
/// a search (and NUL, which PostgreSQL text cannot hold, is one).
func containsControlCharacters(_ text: String) -> Bool {
    text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
}

/// The trace id of a `/traces/{id}` path: 32 hex digits, not all zero.
func parseTraceID(_ id: String) throws(BadQuery) -> TraceID {
    guard let traceID = TraceID(hex: id), traceID.isValid else {
        throw BadQuery(message: "a trace id is 32 hexadecimal digits (got \(id.debugDescription))")
    }
    return traceID
}

/// The session id of a `/sessions/{id}` path, percent-decoded (the router hands the
/// segment over as sent; session ids are opaque text chosen by MCP servers).
func parseSessionParameter(_ segment: String?) throws(BadQuery) -> String {
    guard let segment, let decoded = segment.removingPercentEncoding, !decoded.isEmpty else {
        throw BadQuery(message: "session must be a percent-encoded mcp.session.id")
    }
    return try parseName(decoded, parameter: "session")
}

/// A `limit` parameter that takes one of a page's fixed sizes.
func parseLimit(_ value: String, allowed: [Int]) throws(BadQuery) -> Int {
    guard let limit = Int(value), allowed.contains(limit) else {
        let sizes = allowed.map(String.init).joined(separator: ", ")
        throw BadQuery(message: "limit must be one of \(sizes) (got \(value.debugDescription))")
    }
    return limit
}

extension TraceListQuery {
    /// The trace list's filters from a request's query string, `attr` conditions included:
    /// what the page, its JSON twin and the exports all read.
    init(_ request: Request) throws(BadQuery) {
        try self.init(request.queryDictionary, attributes: request.queryValues("attr"))
    }
}

extension Request {
    /// The query parameters as a dictionary; the last value of a repeated name wins. Read
    /// as a form sends them, `+` for a space: the filter forms are `method="get"`, so a
    /// search for two words arrives as `q=two+words` (Hummingbird's own parameters keep the
    /// `+`, which made such a search look for a plus sign). A malformed escape falls back
    /// to Hummingbird's reading, which keeps it as it came.
    var queryDictionary: [String: String] {
        if let parameters = formParameters(uri.query ?? "") { return parameters }
        var result: [String: String] = [:]
        for (name, value) in uri.queryParameters { result[String(name)] = String(value) }
        return result
    }

    /// Every value of the repeated query parameter `name`, in order, read as
    /// ``queryDictionary`` reads them (a malformed escape: as Hummingbird keeps it).
    func queryValues(_ name: String) -> [String] {
        if let values = formParameterValues(uri.query ?? "", name: name) { return values }
        return uri.queryParameters.getAll(name)
    }
}

/// Every value of `name` in an `application/x-www-form-urlencoded` text, in order, for
/// a parameter that repeats (``formParameters(_:)`` keeps the last one); nil when an
/// escape is malformed.
func formParameterValues(_ encoded: String, name: String) -> [String]? {
    formPairs(encoded).map { pairs in pairs.filter { $0.0 == name }.map(\.1) }
}

/// The fields of an `application/x-www-form-urlencoded` text (a form body, or a query
/// string): `+` is a space, `%2B` a plus; the last of a repeated name wins. nil when an
/// escape is malformed. Parsed here rather than by `URLComponents`, whose setter stops the
/// process on a malformed escape.
func formParameters(_ encoded: String) -> [String: String]? {
    formPairs(encoded).map { Dictionary($0, uniquingKeysWith: { $1 }) }
}

/// The fields of a form-encoded text in order, repeated names kept (``formParameters(_:)`` keeps only the
/// last of a repeated name); nil when an escape is malformed.
func formPairs(_ encoded: String) -> [(String, String)]? {
    var pairs: [(String, String)] = []
    for pair in encoded.split(separator: "&", omittingEmptySubsequences: true) {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let decoded = parts.map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
        guard let name = decoded[0], let value = decoded.count > 1 ? decoded[1] : "" else { return nil }
        pairs.append((name, value))
    }
    return pairs
}

/// `items` as a query string without the `?`, encoded as ``link(_:_:)`` encodes it.
func queryString(_ items: [URLQueryItem]) -> String {
    String(link("", items).drop { $0 != "?" }.dropFirst())
}

/// Builds `path?query` with every value percent-encoded.
func link(_ path: String, _ items: [URLQueryItem]) -> String {
    var components = URLComponents()
    components.path = path
    components.queryItems = items.isEmpty ? nil : items
    // URLComponents leaves '+' alone, which a form decoder reads as a space.
    return (components.string ?? path).replacingOccurrences(of: "+", with: "%2B")
}

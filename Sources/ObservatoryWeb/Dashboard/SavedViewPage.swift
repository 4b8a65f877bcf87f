import Foundation

/// The list pages a view can be saved from, with what each accepts: a saved query is
/// parsed by the page's own filter type before it is stored, and stored as that type
/// writes it back, so a saved view always opens.
enum SavedViewPage: String, CaseIterable, Sendable {
    case metrics, tools, prompts, resources, traces

    var path: String { "/admin/observability/\(rawValue)" }

    var title: String { self == .metrics ? "Summary" : rawValue.capitalized }

    /// The page's query string, checked and rewritten in its canonical form; paging left
    /// out (a view is its filters, not a page of them). Throws the page's own 400 message.
    /// `attributes` are the query's repeated `attr` values (only the trace list takes them).
    func canonicalQuery(_ parameters: [String: String], attributes: [String] = []) throws(BadQuery) -> String {
        let items: [URLQueryItem]
        switch self {
        case .metrics: items = try MetricsQuery(parameters, defaultLimit: 10).queryItems
        case .tools, .prompts, .resources: items = try MetricsQuery(parameters).queryItems
        case .traces: items = try TraceListQuery(parameters, attributes: attributes).queryItems(page: 1)
        }
        return queryString(items)
    }
}

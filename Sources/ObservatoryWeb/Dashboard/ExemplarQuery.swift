import Foundation
import ObservatoryStore

/// The parameters of an exemplar link: which row (an MCP operation, its server and
/// target), which window, which percentile.
struct ExemplarQuery: Sendable, Equatable {
    /// The percentiles the pages show and link.
    static let percentiles = [50, 90, 95, 99]

    var operation: SpanOperation
    var method: String
    var server: String
    var target: String
    var window: MetricWindow
    var percentile: Int

    init(_ parameters: [String: String]) throws(BadQuery) {
        guard let value = parameters["operation"], let operation = SpanOperation(rawValue: value),
            let method = operation.mcpMethod
        else {
            throw BadQuery(
                message:
                    "operation must be tool_invoke, prompt_render or resource_fetch (got \((parameters["operation"] ?? "").debugDescription))"
            )
        }
        self.operation = operation
        self.method = method
        let server = parameters["server"] ?? ""
        self.server = server.isEmpty ? "" : try parseName(server, parameter: "server")
        guard let target = parameters["target"] else { throw BadQuery(message: "target is required (empty for unnamed)") }
        guard !containsControlCharacters(target) else {
            throw BadQuery(message: "target must not contain control characters")
        }
        self.target = target
        window = try parameters["window"].map(parseWindow) ?? .day
        guard let text = parameters["p"], let percentile = Int(text), Self.percentiles.contains(percentile) else {
            let allowed = Self.percentiles.map(String.init).joined(separator: ", ")
            throw BadQuery(message: "p must be one of \(allowed) (got \((parameters["p"] ?? "").debugDescription))")
        }
        self.percentile = percentile
    }

    /// The link of a metric row's percentile; nil for rows counted from spans (no request
    /// to point at).
    static func link(_ row: MetricRow, window: MetricWindow, percentile: Int) -> String? {
        guard row.operation?.mcpMethod != nil else { return nil }
        return ObservatoryWeb.link(
            "/admin/observability/exemplar",
            [
                URLQueryItem(name: "operation", value: row.operationName), URLQueryItem(name: "server", value: row.server),
                URLQueryItem(name: "target", value: row.target), URLQueryItem(name: "window", value: window.rawValue),
                URLQueryItem(name: "p", value: String(percentile)),
            ])
    }
}

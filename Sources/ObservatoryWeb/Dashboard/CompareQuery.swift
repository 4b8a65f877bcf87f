import Foundation
import ObservatoryStore

/// The parameters of a comparison (`/admin/observability/compare` and `/api/v1/compare`):
/// trace `a` against trace `b`, or against the typical trace of its kind over the window
/// `typical`. The trace list's form sends its two ticked traces as `trace=…&trace=…`
/// instead, in list order. The same trace twice is allowed: every span aligns with itself.
struct CompareQuery: Sendable, Equatable {
    /// Side B.
    enum Against: Sendable, Equatable {
        case trace(TraceID)
        case typical(MetricWindow)
    }

    /// A typical trace is built from at most this many of the newest traces of its kind…
    static let typicalMaxTraces = 100
    /// …holding, after the first, at most this many spans in all: its cost grows with the
    /// spans it aligns (about 30 ms a thousand on two cores), and 5,000 keeps it within the
    /// 100 ms the page is allowed.
    static let typicalMaxSpans = 5_000

    var a: TraceID
    var against: Against

    init(a: TraceID, against: Against) {
        self.a = a
        self.against = against
    }

    /// From a raw query string, so that a repeated `trace` keeps every value.
    init(query: String) throws(BadQuery) {
        guard let pairs = formPairs(query) else { throw BadQuery(message: "the query string has a malformed %-escape") }
        var single: [String: String] = [:]
        var ticked: [String] = []
        for (name, value) in pairs {
            if name == "trace" { ticked.append(value) } else { single[name] = value }
        }
        if !ticked.isEmpty {
            guard ticked.count == 2, single["a"] == nil, single["b"] == nil, single["typical"] == nil else {
                throw BadQuery(
                    message:
                        "tick exactly two traces to compare (got \(ticked.count)\(single["a"] == nil ? "" : " and a"))")
            }
            a = try Self.traceID(ticked[0], parameter: "trace")
            against = .trace(try Self.traceID(ticked[1], parameter: "trace"))
            return
        }
        guard let first = single["a"] else { throw BadQuery(message: "a (a trace id) is required") }
        a = try Self.traceID(first, parameter: "a")
        switch (single["b"], single["typical"]) {
        case (let b?, nil): against = .trace(try Self.traceID(b, parameter: "b"))
        case (nil, let window?): against = .typical(window.isEmpty ? .day : try parseWindow(window))
        case (nil, nil):
            throw BadQuery(message: "give b (another trace id) or typical (a window: 1h, 24h, 7d or 30d)")
        case (_?, _?): throw BadQuery(message: "give b or typical, not both")
        }
    }

    static func traceID(_ value: String, parameter: String) throws(BadQuery) -> TraceID {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard let id = TraceID(hex: trimmed), id.isValid else {
            let shown = value.count > 64 ? String(value.prefix(64)) + "…" : value
            throw BadQuery(message: "\(parameter) must be a trace id of 32 hexadecimal digits (got \(shown.debugDescription))")
        }
        return id
    }

    /// The query items of this comparison, for links.
    var queryItems: [URLQueryItem] {
        switch against {
        case .trace(let b): [URLQueryItem(name: "a", value: a.hex), URLQueryItem(name: "b", value: b.hex)]
        case .typical(let window): [URLQueryItem(name: "a", value: a.hex), URLQueryItem(name: "typical", value: window.rawValue)]
        }
    }

    /// The page's link of trace `a` against the typical trace of its kind over `window`.
    static func typicalLink(_ a: String, window: MetricWindow = .day) -> String {
        link(
            "/admin/observability/compare",
            [URLQueryItem(name: "a", value: a), URLQueryItem(name: "typical", value: window.rawValue)])
    }
}

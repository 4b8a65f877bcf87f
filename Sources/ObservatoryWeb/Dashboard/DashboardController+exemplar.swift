import Foundation
import Hummingbird
import ObservatoryStore

extension DashboardData {
    /// The request at `query`'s percentile of its row, over the row's window ending now.
    func exemplar(_ query: ExemplarQuery) async throws(DatabaseError) -> Exemplar? {
        let now = now()
        return try await calls.exemplar(
            method: query.method, server: query.server, target: query.target,
            since: now.addingTimeInterval(-Double(query.window.seconds)), until: SpanTimeRange.latestShown(now: now),
            fraction: Double(query.percentile) / 100)
    }
}

extension DashboardController {
    /// `/admin/observability/exemplar`: the p50/p95/p99 links of the tools, prompts and
    /// resources pages. Found when followed, not when the page is drawn, so the pages pay
    /// nothing for them; answers with the request's trace, at its span.
    func exemplar(_ request: Request) async -> Response {
        await answer(title: "Example request") {
            let query = try ExemplarQuery(request.queryDictionary)
            guard let found = try await data.exemplar(query) else {
                return message(
                    .notFound, title: "No request found",
                    text:
                        "No request of “\(query.target)” in the last \(query.window.rawValue) has a server-side duration: the row's requests may have aged out of the window since the page was drawn."
                )
            }
            return Response.redirect(to: "/admin/observability/traces/\(found.traceID)#span-\(found.spanID)", type: .found)
        }
    }
}

extension DashboardAPIController {
    /// `/api/v1/exemplar`: the same request as JSON.
    func exemplar(_ request: Request) async -> Response {
        do {
            let query = try ExemplarQuery(request.queryDictionary)
            guard let found = try await data.exemplar(query) else {
                return Self.error(.notFound, "no request of this row in the window has a server-side duration")
            }
            return Self.json(
                ExemplarJSON(
                    traceID: found.traceID, spanID: found.spanID, durationMs: found.durationMs, rank: found.rank,
                    total: found.total, percentile: query.percentile))
        } catch {
            return failure(error)
        }
    }
}

/// The exemplar's JSON: the request, and where it stands.
struct ExemplarJSON: Encodable {
    var traceID: String
    var spanID: String
    var durationMs: Double
    var rank: Int
    var total: Int
    var percentile: Int

    enum CodingKeys: String, CodingKey {
        case traceID = "trace_id", spanID = "span_id", durationMs = "duration_ms", rank, total, percentile
    }
}

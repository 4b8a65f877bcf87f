import Foundation
import PostgresNIO

/// The request behind a latency figure (`observability.call_at_percentile`).
public struct Exemplar: Sendable, Equatable {
    public var traceID: String
    public var spanID: String
    public var durationMs: Double
    /// Its place in duration order (1 = fastest), of `total` requests.
    public var rank: Int
    public var total: Int
}

extension CallStore {
    /// The counted request of `method` at `server` and `target` that started in
    /// [`since`, `until`) at percentile `fraction` of their server-side durations; nil
    /// when there is none.
    public func exemplar(
        method: String, server: String, target: String, since: Date, until: Date, fraction: Double
    ) async throws(DatabaseError) -> Exemplar? {
        let query: PostgresQuery = """
            SELECT observability.hex_trace_id(e.trace_id), observability.hex_span_id(e.span_id), e.duration_ms, e.rank, e.total
            FROM observability.call_at_percentile(\(method), \(server), \(target), \(since), \(until), \(fraction)) e
            """
        do {
            let rows = try await client.tracedQuery(query, logger: logger)
            return try rows.decode((String, String, Double, Int, Int).self).first.map {
                Exemplar(traceID: $0, spanID: $1, durationMs: $2, rank: $3, total: $4)
            }
        } catch {
            throw DatabaseError(error)
        }
    }
}

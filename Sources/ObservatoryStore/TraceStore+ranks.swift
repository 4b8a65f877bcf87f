import Foundation
import PostgresNIO

/// Where one span's duration falls among its target's over the last 24 hours
/// (`observability.span_ranks`, migration 0017): what makes "p97 for `search_docs` on
/// server X" readable on the trace page.
public struct SpanRank: Sendable, Codable, Equatable {
    /// The midpoint rank, 0–100.
    public var percentile: Double
    /// The exact mid-rank lies in [`low`, `high`]: the span's digest bucket is 2 % wide,
    /// and the durations sharing it cannot be told apart.
    public var low: Double
    public var high: Double
    /// How many durations the span was ranked among.
    public var sampleCount: Int
    /// The group it was ranked in, as the metric views name it.
    public var operation: String
    public var server: String
    public var target: String
    public var side: String
    /// The hours the durations come from: [`since`, `until`).
    public var since: Date
    public var until: Date

    public init(
        percentile: Double, low: Double, high: Double, sampleCount: Int, operation: String, server: String,
        target: String, side: String, since: Date, until: Date
    ) {
        self.percentile = percentile
        self.low = low
        self.high = high
        self.sampleCount = sampleCount
        self.operation = operation
        self.server = server
        self.target = target
        self.side = side
        self.since = since
        self.until = until
    }

    /// How a rank is coloured on the trace page: from the 90th percentile up, and more
    /// strongly from the 99th.
    public enum Band: String, Sendable {
        case ordinary, high, extreme
    }

    public static let highFrom = 90.0
    public static let extremeFrom = 99.0

    public var band: Band {
        percentile >= Self.extremeFrom ? .extreme : percentile >= Self.highFrom ? .high : .ordinary
    }

    /// The rank as the page writes it, rounded down so that "p99" never stands for a rank
    /// short of 99: `p97`; `p100` only for a span slower than every duration ranked.
    public var label: String { "p\(Int(min(max(percentile, 0), 100).rounded(.down)))" }

    enum CodingKeys: String, CodingKey {
        case percentile, low, high, sampleCount = "sample_count", operation, server, target, side, since, until
    }
}

extension TraceStore {
    /// The percentile rank of each of the trace's spans that has one, by span id (hex).
    /// `from`/`through` are the trace's first start and last end: bound as values, they
    /// keep the planner to those days' partitions. They are padded (`TraceBounds`), as
    /// `span_ranks` compares them as given.
    public func ranks(_ id: TraceID, from: Date, through: Date) async throws(DatabaseError) -> [String: SpanRank] {
        let (lower, upper) = TraceBounds.padded(from: from, through: through)
        let query: PostgresQuery = """
            SELECT observability.hex_span_id(r.span_id), r.rank_pct, r.rank_low_pct, r.rank_high_pct, r.sample_count,
                   r.operation, r.server, r.target, r.side, r.window_start, r.window_end
            FROM observability.span_ranks(\(id), \(lower), \(upper)) r
            """
        do {
            var ranks: [String: SpanRank] = [:]
            for (spanID, rank, low, high, count, operation, server, target, side, since, until)
                in try await client
                .tracedQuery(query, logger: logger)
                .decode((String, Double, Double, Double, Int, String, String, String, String, Date, Date).self)
            {
                ranks[spanID] = SpanRank(
                    percentile: rank, low: low, high: high, sampleCount: count, operation: operation, server: server,
                    target: target, side: side, since: since, until: until)
            }
            return ranks
        } catch {
            throw DatabaseError(error)
        }
    }
}

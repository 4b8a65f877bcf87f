import Foundation
import ObservatoryStore

/// How a span's percentile rank reads on the trace page: the badge's title and the line
/// above the span table that says what the ranks are measured against. One place, so the
/// table, the page and the tests agree.
enum SpanRankText {
    /// The group a span was ranked in: `tools/call search_docs on docs-server, server side`
    /// for an MCP request, `db_query SELECT` otherwise.
    static func group(_ rank: SpanRank) -> String {
        guard let method = SpanOperation(rawValue: rank.operation)?.mcpMethod else {
            return rank.target.isEmpty ? rank.operation : rank.operation + " " + rank.target
        }
        var text = method
        if !rank.target.isEmpty { text += " " + rank.target }
        if !rank.server.isEmpty { text += " on " + rank.server }
        return text + ", " + rank.side + " side"
    }

    /// `p97: slower than 96.5–97.8 % of 1,062 durations of tools/call search_docs on …`.
    static func title(_ rank: SpanRank) -> String {
        let range =
            rank.low == rank.high
            ? Format.decimals(rank.low, 1) : Format.decimals(rank.low, 1) + "–" + Format.decimals(rank.high, 1)
        return rank.label + ": slower than " + range + " % of " + Format.count(rank.sampleCount)
            + " durations of " + group(rank) + " in the last 24 hours"
    }

    /// The line above the span table: the hours the ranks come from, or why there are none.
    static func notice(_ timeline: TraceTimeline) -> String {
        guard let rank = timeline.spans.lazy.compactMap(\.rank).first else {
            return
                "No span of this trace has a percentile rank: ranks compare a span with its target's durations over the last 24 whole hours rolled up, and none of its targets had any there yet."
        }
        return "pNN beside a duration: where it falls among its target's durations from " + Format.time(rank.since)
            + " to " + Format.time(rank.until)
            + " (whole hours rolled up; exact to the 2 % bucket the duration falls in, see the badge's title). Marked from p"
            + Format.decimals(SpanRank.highFrom, 0) + ", darker from p" + Format.decimals(SpanRank.extremeFrom, 0) + "."
    }
}

import Foundation

/// The times a span may carry, decided once for every decoder, the trace lists and
/// retention (docs/ingestion.md#span-validation).
///
/// From just after the Unix epoch (0 means "missing" in OTLP) to the server's clock plus
/// ``maxFutureSkewSeconds``. The upper bound keeps clock-skewed or hostile spans from
/// sitting on top of every "recent" list and from outliving current data; it also lies far
/// below what nanoseconds since 1970 can hold in a `UInt64` (year 2554) and what
/// PostgreSQL's `timestamptz` holds (year 294276), so every accepted time converts
/// without overflow. `observability_internal.max_future_skew()` (migration 0009) holds the same
/// value for retention; an integration test checks that the two agree.
public enum SpanTimeRange {
    /// How far ahead of the server's clock a span may start, end or hold an event: one
    /// hour, generous for clients with a drifting clock, short enough that a future-dated
    /// trace leaves the top of the lists within the hour.
    public static let maxFutureSkewSeconds: Int64 = 3_600

    /// ``maxFutureSkewSeconds`` for messages: `1 h`.
    public static let maxFutureSkewText = "\(maxFutureSkewSeconds / 3_600) h"

    /// The server's clock in nanoseconds since the Unix epoch.
    public static func nowUnixNano() -> UInt64 {
        UnixTime.unixNano(clamping: Date().timeIntervalSince1970)
    }

    /// The latest time a span accepted at `nowUnixNano` may carry. Saturates instead of
    /// trapping for a clock near the end of `UInt64`.
    public static func latestAccepted(nowUnixNano: UInt64) -> UInt64 {
        let (sum, overflow) = nowUnixNano.addingReportingOverflow(UInt64(maxFutureSkewSeconds) * 1_000_000_000)
        return overflow ? .max : sum
    }

    /// The latest start time the trace lists show at `now`: the same bound as ingestion's,
    /// so rows stored before it existed (or before the clock was set back) stay out of sight
    /// until retention removes them.
    public static func latestShown(now: Date) -> Date {
        now.addingTimeInterval(Double(maxFutureSkewSeconds))
    }
}

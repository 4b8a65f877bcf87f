/// The time windows the metric views are computed for (migrations/0006). Dashboards and
/// the API accept exactly these, so every figure they show comes from a materialized view.
public enum MetricWindow: String, CaseIterable, Sendable, Codable {
    case hour = "1h"
    case day = "24h"
    case week = "7d"
    case month = "30d"

    /// The materialized view that holds this window's figures.
    var viewName: String {
        switch self {
        case .hour: "metrics_1h"
        case .day: "metrics_24h"
        case .week: "metrics_7d"
        case .month: "metrics_30d"
        }
    }

    /// The window's length, for queries that read spans or traces directly.
    public var seconds: Int {
        switch self {
        case .hour: 3_600
        case .day: 86_400
        case .week: 7 * 86_400
        case .month: 30 * 86_400
        }
    }

    /// The rollup table a time series of this window reads, and its bucket width: one
    /// point a minute for the last hour, one an hour beyond (at most 721 points).
    var seriesSource: (table: String, bucketSeconds: Int) {
        self == .hour ? ("metrics_minute", 60) : ("metrics_hour", 3_600)
    }
}

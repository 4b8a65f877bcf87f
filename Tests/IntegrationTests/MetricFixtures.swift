import Foundation
import ObservatoryStore
import PostgresNIO

/// Spans with chosen operations, targets, durations, statuses and start times, inserted
/// straight into observability.spans: the metric tests need exact inputs, not traces.
/// Each span is a trace of its own (its traces row written with it) and, for tools,
/// prompts and resources, one MCP request: its calls are assembled before returning.
struct MetricSpan {
    var operation = "tool_invoke"
    var target: String
    var durationMs: Double
    var error = false
    var message: String? = nil
    var start: Date
}

enum MetricFixtures {
    static func insert(_ spans: [MetricSpan], into client: PostgresClient) async throws {
        guard !spans.isEmpty else { return }
        let query: PostgresQuery = """
            WITH stored AS (
                INSERT INTO observability.spans (trace_id, span_id, name, kind, operation, target, service_name,
                                                 start_time, end_time, duration_ms, status, status_message)
                SELECT gen_random_uuid(), 1 + (random() * 9e18)::bigint, u.target, 'internal', u.operation, u.target,
                       'svc', u.start_time, u.start_time + u.duration_ms * interval '1 millisecond', u.duration_ms,
                       u.status, nullif(u.message, '')
                FROM unnest(\(spans.map(\.operation)), \(spans.map(\.target)), \(spans.map(\.durationMs)),
                            \(spans.map { $0.error ? "error" : "ok" }), \(spans.map { $0.message ?? "" }),
                            \(spans.map(\.start)))
                     AS u(operation, target, duration_ms, status, message, start_time)
                RETURNING trace_id, span_id, name, service_name, start_time, end_time, status
            )
            INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time, end_time,
                                              span_count, error_count)
            SELECT trace_id, span_id, name, service_name, start_time, end_time, 1, (status = 'error')::int FROM stored
            """
        _ = try await client.query(query)
        _ = try await client.query(
            "SELECT * FROM observability.assemble_calls(now(), interval '0', NULL)")
    }

    /// PERCENTILE_CONT as the SQL standard defines it, computed here independently:
    /// linear interpolation between the two values around position p × (n − 1).
    static func percentileCont(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        let position = p * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (position - Double(lower)) * (sorted[upper] - sorted[lower])
    }

    /// A minute-aligned instant, so that rollup buckets are predictable.
    static func minuteAligned(_ date: Date = Date()) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60)
    }
}

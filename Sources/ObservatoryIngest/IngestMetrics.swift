import Metrics
import ObservatoryStore
import Synchronization

/// The ingestion figures `/metrics` exposes, through swift-metrics (Prometheus in
/// `serve`; no-ops until a metrics backend is bootstrapped, as in unit tests).
///
/// Per operation and target counts let an operator alert on one tool's errors without
/// a query. Targets come from clients, so their number is capped: past
/// ``maxTargets`` distinct ones, new targets are counted under `(other)` rather than
/// growing the scrape without bound.
public final class IngestMetrics: Sendable {
    public static let maxTargets = 1_000
    public static let otherTarget = "(other)"

    private let accepted = Counter(label: "observatory_spans_accepted_total")
    private let rejectedInvalid = Counter(label: "observatory_spans_rejected_total", dimensions: [("reason", "invalid")])
    private let rejectedRefused = Counter(label: "observatory_spans_rejected_total", dimensions: [("reason", "refused")])
    private let droppedSampling = Counter(label: "observatory_spans_dropped_total", dimensions: [("reason", "sampling")])
    private let droppedExclusion = Counter(label: "observatory_spans_dropped_total", dimensions: [("reason", "exclusion")])
    private let targets = Mutex<[TargetKey: TargetCounters]>([:])
    private let requests = Mutex<[RequestKey: Counter]>([:])

    /// How an export arrived, the `protocol` label of `observatory_ingest_requests_total`.
    public enum Transport: String, Sendable {
        /// `POST /v1/traces`.
        case otlpHTTP = "otlp_http"
        /// OTLP/gRPC `TraceService/Export`.
        case otlpGRPC = "otlp_grpc"
        /// `POST /api/v1/spans`.
        case native
    }

    private struct RequestKey: Hashable {
        var transport: Transport
        var status: String
    }

    private struct TargetKey: Hashable {
        var operation: String
        var target: String
    }

    private struct TargetCounters {
        let spans: Counter
        let errors: Counter
    }

    public init() {}

    /// Counts one answered ingestion request by transport and answer: the HTTP status code
    /// (`200`, `429`), or the gRPC status (`ok`, `unavailable`). Both sets are small and fixed,
    /// so the counter's series are bounded.
    public func recordRequest(_ transport: Transport, status: String) {
        let key = RequestKey(transport: transport, status: status)
        let counter = requests.withLock { known in
            if let counter = known[key] { return counter }
            let counter = Counter(
                label: "observatory_ingest_requests_total", dimensions: [("protocol", transport.rawValue), ("status", status)])
            known[key] = counter
            return counter
        }
        counter.increment()
    }

    /// Records what became of one export: `stored` is false when the writer refused it
    /// (429/503), in which case its valid spans count as rejected.
    public func record(_ outcome: IngestPipeline.Outcome, stored: Bool) {
        rejectedInvalid.increment(by: outcome.rejected)
        droppedSampling.increment(by: outcome.droppedBySampling)
        droppedExclusion.increment(by: outcome.droppedByExclusion)
        guard stored else {
            rejectedRefused.increment(by: outcome.records.count)
            return
        }
        accepted.increment(by: outcome.records.count)
        var counts: [TargetKey: (spans: Int, errors: Int)] = [:]
        for record in outcome.records {
            let key = TargetKey(operation: record.operation.rawValue, target: record.target ?? "")
            counts[key, default: (0, 0)].spans += 1
            if record.status == .error { counts[key, default: (0, 0)].errors += 1 }
        }
        for (key, count) in counts {
            let counters = counters(for: key)
            counters.spans.increment(by: count.spans)
            if count.errors > 0 { counters.errors.increment(by: count.errors) }
        }
    }

    private func counters(for key: TargetKey) -> TargetCounters {
        targets.withLock { known in
            if let counters = known[key] { return counters }
            let capped = known.count >= Self.maxTargets ? TargetKey(operation: key.operation, target: Self.otherTarget) : key
            if let counters = known[capped] { return counters }
            let dimensions = [("operation", capped.operation), ("target", capped.target)]
            let counters = TargetCounters(
                spans: Counter(label: "observatory_operation_spans_total", dimensions: dimensions),
                errors: Counter(label: "observatory_operation_errors_total", dimensions: dimensions))
            known[capped] = counters
            return counters
        }
    }
}

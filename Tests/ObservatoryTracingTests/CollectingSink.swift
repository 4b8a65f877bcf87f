import ObservatoryIngest
import ObservatoryStore
import ObservatoryTracing
import Synchronization

/// Keeps every ended span, so tests can look at what the tracer produced.
final class CollectingSink: SelfSpanSink {
    private let spans = Mutex<[SpanInput]>([])

    private let discardedCount = Mutex(0)

    func receive(_ span: SpanInput) {
        spans.withLock { $0.append(span) }
    }

    func discard(_ count: Int) {
        discardedCount.withLock { $0 += count }
    }

    var all: [SpanInput] { spans.withLock { $0 } }

    /// Spans the tracer deliberately did not store (requests answered 401 or 404).
    var discarded: Int { discardedCount.withLock { $0 } }

    func removeAll() {
        spans.withLock { $0.removeAll() }
        discardedCount.withLock { $0 = 0 }
    }

    /// The spans of one trace, by the hex of its id.
    func trace(_ traceIDBytes: [UInt8]) -> [SpanInput] {
        all.filter { $0.traceID == traceIDBytes }
    }
}

extension SpanInput {
    /// The row the ingest pipeline makes of this span, as the exporter would store it:
    /// where the status of a span that answered 5xx is decided.
    var stored: SpanRecord {
        let pipeline = IngestPipeline(
            policy: TracePolicy(sampleRate: 1, excludePaths: []), redactor: Redactor(maxValueLength: 8_192),
            eventsEnabled: true)
        return pipeline.process(DecodedExport(origins: [SpanOrigin(resourceAttributes: [], scopeName: nil)], spans: [self]))
            .records[0]
    }

    func attribute(_ key: String) -> AttributeValue? {
        attributes.first { $0.key == key }?.value
    }
}

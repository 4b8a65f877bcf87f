import ObservatoryIngest
import ObservatoryTracing
import Synchronization

/// Keeps every ended span, so tests can look at what the tracer produced.
final class CollectingSink: SelfSpanSink {
    private let spans = Mutex<[SpanInput]>([])

    func receive(_ span: SpanInput) {
        spans.withLock { $0.append(span) }
    }

    var all: [SpanInput] { spans.withLock { $0 } }

    func removeAll() { spans.withLock { $0.removeAll() } }

    /// The spans of one trace, by the hex of its id.
    func trace(_ traceIDBytes: [UInt8]) -> [SpanInput] {
        all.filter { $0.traceID == traceIDBytes }
    }
}

extension SpanInput {
    func attribute(_ key: String) -> AttributeValue? {
        attributes.first { $0.key == key }?.value
    }
}

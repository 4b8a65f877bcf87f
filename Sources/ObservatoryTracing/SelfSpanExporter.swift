import Logging
import Metrics
import ObservatoryIngest
import ObservatoryStore
import ServiceLifecycle
import Synchronization

/// Carries finished self-spans to the span writer in batches, off the request path.
///
/// Ending a span only appends it to a bounded buffer; every `flushInterval` the buffer
/// goes through the same ingest pipeline as a client's export (redaction, SQL literals
/// stripped, classification, `OBSERVABILITY_EVENTS_ENABLED`) and into the writer. The
/// writer's own inserts run in this service's task, outside any trace, so storing
/// spans never creates spans. When the buffer is full, new spans are dropped and
/// counted rather than slowing requests down.
public final class SelfSpanExporter: SelfSpanSink, Service, Sendable {
    /// What has become of self-spans so far.
    public struct Statistics: Sendable, Equatable {
        public var stored = 0
        public var dropped = 0
        public var buffered = 0
        /// Spans of requests answered 401 or 404, never stored.
        public var discarded = 0
    }

    private let pipeline: IngestPipeline
    private let writer: SpanWriter
    private let resource: SpanOrigin
    private let capacity: Int
    private let flushInterval: Duration
    private let logger: Logger
    private let state = Mutex(State())
    private let storedCounter = Counter(label: "observatory_self_spans_stored_total")
    private let droppedCounter = Counter(label: "observatory_self_spans_dropped_total")
    private let discardedCounter = Counter(label: "observatory_self_spans_discarded_total")

    private struct State {
        var buffer: [SpanInput] = []
        var statistics = Statistics()
    }

    public init(
        pipeline: IngestPipeline, writer: SpanWriter, resource: SpanOrigin, capacity: Int = 20_000,
        flushInterval: Duration = .milliseconds(250), logger: Logger
    ) {
        self.pipeline = pipeline
        self.writer = writer
        self.resource = resource
        self.capacity = capacity
        self.flushInterval = flushInterval
        self.logger = logger
    }

    /// The resource every self-span carries: this service, this process.
    public static func resource(serviceVersion: String, instanceID: String) -> SpanOrigin {
        SpanOrigin(
            resourceAttributes: [
                Attribute(key: "service.name", value: .string(SelfService.name)),
                Attribute(key: "service.version", value: .string(serviceVersion)),
                Attribute(key: "service.instance.id", value: .string(instanceID)),
            ],
            scopeName: "mcp-observatory.self-tracing")
    }

    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.buffered = state.buffer.count
            return statistics
        }
    }

    public func receive(_ span: SpanInput) {
        let accepted = state.withLock { state in
            guard state.buffer.count < capacity else {
                state.statistics.dropped += 1
                return false
            }
            state.buffer.append(span)
            return true
        }
        if !accepted { droppedCounter.increment() }
    }

    public func discard(_ count: Int) {
        state.withLock { $0.statistics.discarded += count }
        discardedCounter.increment(by: count)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.flushInterval)
                await self.flush()
            }
        }
        // Graceful shutdown: the HTTP server has stopped; what it traced goes in before
        // the writer drains (it shuts down after this service).
        await flush()
    }

    /// Stores everything buffered so far; returns when it is committed or refused.
    public func flush() async {
        let spans = state.withLock { state in
            defer { state.buffer.removeAll(keepingCapacity: true) }
            return state.buffer
        }
        guard !spans.isEmpty else { return }
        let outcome = pipeline.process(DecodedExport(origins: [resource], spans: spans))
        do {
            try await writer.submit(outcome.records)
            state.withLock { $0.statistics.stored += outcome.records.count }
            storedCounter.increment(by: outcome.records.count)
        } catch {
            state.withLock { $0.statistics.dropped += spans.count }
            droppedCounter.increment(by: spans.count)
            logger.debug("self-spans not stored", metadata: ["spans": "\(spans.count)", "error": "\(error)"])
        }
    }
}

/// Where ended self-spans go: the exporter in `serve`, a collector in tests.
public protocol SelfSpanSink: Sendable {
    /// Takes one ended span; must not block (it runs on the request's path).
    func receive(_ span: SpanInput)
    /// Counts `count` ended spans deliberately not stored: those of a request answered
    /// 401 or 404 (see `RequestSpanGroup`).
    func discard(_ count: Int)
}

extension SelfSpanSink {
    public func discard(_ count: Int) {}
}

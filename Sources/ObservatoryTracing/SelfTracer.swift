import ObservatoryIngest
import ObservatoryStore
import Tracing

/// The service's own tracer for swift-distributed-tracing. `serve` bootstraps it as the
/// process's `InstrumentationSystem`, so the ecosystem's instrumentation (Hummingbird's
/// `TracingMiddleware`, the DB spans around PostgresNIO calls) records into the
/// service's own store through ``SelfSpanExporter``, like any client's spans.
///
/// Sampling is decided when a trace's first span starts, from its trace id with the
/// same function the ingest policy uses, so an unsampled request costs no recording and
/// its DB queries none either. A context marked suppressed (an excluded path) yields
/// spans that record nothing, children included. An incoming W3C `traceparent`
/// continues the caller's trace.
public struct SelfTracer: Tracer {
    public typealias Span = SelfSpan

    public let sampleRate: Double
    let exporter: any SelfSpanSink

    public init(sampleRate: Double, exporter: any SelfSpanSink) {
        self.sampleRate = sampleRate
        self.exporter = exporter
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: Tracing.SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> SelfSpan {
        var context = context()
        if context.tracingSuppressed {
            return SelfSpan(nonRecording: operationName, context: context)
        }
        let parent = context.selfSpanContext
        let traceID = parent?.traceID ?? Self.randomTraceID()
        let identity = SelfSpanContext(
            traceID: traceID, spanID: Self.randomSpanID(), sampled: TracePolicy.samples(traceID, rate: sampleRate))
        guard identity.sampled else {
            context.selfSpanContext = identity
            return SelfSpan(nonRecording: operationName, context: context)
        }
        return SelfSpan(
            name: operationName, identity: identity, parentSpanID: parent?.spanID, kind: kind,
            startNanos: instant().nanosecondsSinceEpoch, context: context, exporter: exporter)
    }

    /// Not tracked: nothing in the service looks spans up by context.
    public func activeSpan(identifiedBy context: InstrumentationContext) -> SelfSpan? { nil }

    /// Spans are exported every fraction of a second and at shutdown; nothing to force.
    public func forceFlush() {}

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        if let value = extractor.extract(key: "traceparent", from: carrier),
            let caller = SelfSpanContext(traceparent: value)
        {
            context.selfSpanContext = caller
        }
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        if let identity = context.selfSpanContext {
            injector.inject(identity.traceparent, forKey: "traceparent", into: &carrier)
        }
    }

    static func randomTraceID() -> TraceID {
        var id = TraceID(high: .random(in: .min ... .max), low: .random(in: .min ... .max))
        if !id.isValid { id.low = 1 }
        return id
    }

    static func randomSpanID() -> SpanID {
        SpanID(.random(in: 1 ... .max))
    }
}

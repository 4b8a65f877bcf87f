import ObservatoryIngest
import ObservatoryStore
import Synchronization
import Tracing

/// A span of the service's own work. Recording spans collect what the instrumentation
/// tells them and, when ended, hand one ``SpanInput`` to the exporter; spans of an
/// unsampled or suppressed trace record nothing and cost a context copy.
public final class SelfSpan: Tracing.Span, Sendable {
    public let context: InstrumentationContext
    private let identity: SelfSpanContext?
    private let parentSpanID: SpanID?
    private let kind: ObservatoryStore.SpanKind
    private let startNanos: UInt64
    private let exporter: (any SelfSpanSink)?
    /// The request this span belongs to, whose verdict decides whether it is stored.
    private let group: RequestSpanGroup?
    /// Whether this is the request's server span, which closes `group` when it ends.
    private let closesGroup: Bool
    private let state: Mutex<State>

    private struct State {
        var name: String
        var attributes = SpanAttributes()
        var events: [SpanEvent] = []
        var status: Tracing.SpanStatus?
        var ended = false
    }

    /// A recording span.
    init(
        name: String, identity: SelfSpanContext, parentSpanID: SpanID?, kind: Tracing.SpanKind, startNanos: UInt64,
        context: InstrumentationContext, exporter: any SelfSpanSink
    ) {
        var context = context
        context.selfSpanContext = identity
        // A server span opens its request's group unless it runs inside one already.
        if kind == .server, context.requestSpanGroup == nil {
            context.requestSpanGroup = RequestSpanGroup()
            self.closesGroup = true
        } else {
            self.closesGroup = false
        }
        self.group = context.requestSpanGroup
        self.context = context
        self.identity = identity
        self.parentSpanID = parentSpanID
        self.kind = ObservatoryStore.SpanKind(kind)
        self.startNanos = startNanos
        self.exporter = exporter
        self.state = Mutex(State(name: name))
    }

    /// A span that records nothing; `context` is what its children inherit.
    init(nonRecording name: String, context: InstrumentationContext) {
        self.context = context
        self.identity = nil
        self.parentSpanID = nil
        self.kind = .internal
        self.startNanos = 0
        self.exporter = nil
        self.group = nil
        self.closesGroup = false
        self.state = Mutex(State(name: name))
    }

    public var isRecording: Bool { exporter != nil }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set { if isRecording { state.withLock { $0.name = newValue } } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { if isRecording { state.withLock { $0.attributes = newValue } } }
    }

    public func setStatus(_ status: Tracing.SpanStatus) {
        guard isRecording else { return }
        state.withLock { state in
            // OpenTelemetry: once an error, a later "ok" does not hide it.
            if state.status?.code != .error || status.code == .error { state.status = status }
        }
    }

    public func addEvent(_ event: SpanEvent) {
        guard isRecording else { return }
        state.withLock { $0.events.append(event) }
    }

    /// An `exception` event with the error's type and description, as the OpenTelemetry
    /// conventions name them. The span's status is left to the caller (a 4xx is not a
    /// server error; a 5xx is, and the ingest pipeline marks it).
    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        guard isRecording else { return }
        var eventAttributes = attributes
        eventAttributes["exception.type"] = String(reflecting: type(of: error))
        eventAttributes["exception.message"] = String(describing: error)
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: eventAttributes))
    }

    /// Links are not stored: the span table has no column for them.
    public func addLink(_ link: SpanLink) {}

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard let exporter, let identity else { return }
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let finished else { return }
        let endNanos = max(instant().nanosecondsSinceEpoch, startNanos)
        let span = input(finished, identity: identity, endNanos: endNanos)
        switch (group, closesGroup) {
        case (let group?, true): group.close(with: span, sink: exporter)
        case (let group?, false): group.receive(span, sink: exporter)
        case (nil, _): exporter.receive(span)
        }
    }

    private func input(_ state: State, identity: SelfSpanContext, endNanos: UInt64) -> SpanInput {
        let attributes = SelfSpanAttributes.convert(state.attributes)
        // A 5xx answered without a throw (Hummingbird's middleware marks thrown ones
        // only) is left to the ingest pipeline, which fails every server span with an
        // HTTP status of 5xx, a client's or our own.
        let statusCode: SpanInput.StatusCode =
            switch state.status?.code {
            case .error?: .error
            case .ok?: .ok
            case nil: .unset
            }
        return SpanInput(
            traceID: identity.traceID.bytes, spanID: identity.spanID.bytes, parentSpanID: parentSpanID?.bytes ?? [],
            name: state.name, kind: kind, startTimeUnixNano: startNanos, endTimeUnixNano: endNanos,
            attributes: attributes,
            events: state.events.map {
                EventInput(
                    name: $0.name, timeUnixNano: $0.nanosecondsSinceEpoch,
                    attributes: SelfSpanAttributes.convert($0.attributes))
            },
            statusCode: statusCode, statusMessage: state.status?.message ?? "", origin: 0)
    }
}

extension ObservatoryStore.SpanKind {
    init(_ kind: Tracing.SpanKind) {
        switch kind {
        case .server: self = .server
        case .client: self = .client
        case .producer: self = .producer
        case .consumer: self = .consumer
        case .internal: self = .internal
        }
    }
}

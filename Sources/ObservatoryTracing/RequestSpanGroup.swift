import ObservatoryIngest
import Synchronization
import Tracing

/// The spans of one HTTP request, held until the request's server span ends so they are
/// stored or dropped together.
///
/// A request answered 401 or 404 (``unstoredStatusCodes``) leaves no span at all: anyone
/// can send them, unauthenticated, by the thousand, with paths and user agents of their
/// choosing, and each stored one would be a trace in the store counting toward
/// `OBSERVABILITY_MAX_TRACES`. Holding the request's other spans (its DB queries, which
/// end before it) until its answer is known keeps them from being stored as orphans of a
/// dropped parent. Spans that end after the server span follow its verdict.
final class RequestSpanGroup: Sendable {
    /// The answers whose requests leave no span: unauthenticated (401) and unrouted or
    /// unknown (404).
    static let unstoredStatusCodes: Set<Int64> = [401, 404]

    private struct State {
        var held: [SpanInput] = []
        /// Nil while the server span runs; then whether the request's spans are stored.
        var stored: Bool?
    }

    private let state = Mutex(State())

    /// A span of the request other than the server span has ended.
    func receive(_ span: SpanInput, sink: any SelfSpanSink) {
        let verdict: Bool? = state.withLock { state in
            if state.stored == nil { state.held.append(span) }
            return state.stored
        }
        switch verdict {
        case true?: sink.receive(span)
        case false?: sink.discard(1)
        case nil: break
        }
    }

    /// The server span has ended: it and every span held so far are stored, or all of them
    /// dropped when the request was answered with one of ``unstoredStatusCodes``.
    func close(with server: SpanInput, sink: any SelfSpanSink) {
        var stored = true
        if case .int(let code)? = server.attributes[key: "http.response.status_code"], Self.unstoredStatusCodes.contains(code) {
            stored = false
        }
        let held: [SpanInput] = state.withLock { state in
            state.stored = stored
            defer { state.held = [] }
            return state.held
        }
        if stored {
            for span in held { sink.receive(span) }
            sink.receive(server)
        } else {
            sink.discard(held.count + 1)
        }
    }
}

/// The request span group spans started under this context belong to.
enum RequestSpanGroupKey: InstrumentationContextKey {
    typealias Value = RequestSpanGroup
    static var nameOverride: String? { "observatory-request-spans" }
}

extension InstrumentationContext {
    var requestSpanGroup: RequestSpanGroup? {
        get { self[RequestSpanGroupKey.self] }
        set { self[RequestSpanGroupKey.self] = newValue }
    }
}

import Foundation
import ObservatoryConfiguration
import ObservatoryStore

/// Turns a decoded export into rows to store: validates each span, applies the trace
/// policy (sampling, path exclusion), redacts, classifies and serializes. Spans that fail
/// validation are rejected one by one; the rest of the export still goes in.
public struct IngestPipeline: Sendable {
    public let policy: TracePolicy
    public let redactor: Redactor
    public let eventsEnabled: Bool

    public init(policy: TracePolicy, redactor: Redactor, eventsEnabled: Bool) {
        self.policy = policy
        self.redactor = redactor
        self.eventsEnabled = eventsEnabled
    }

    public init(configuration: ObservatoryConfiguration) {
        self.init(
            policy: TracePolicy(sampleRate: configuration.sampleRate, excludePaths: configuration.excludePaths),
            redactor: Redactor(maxValueLength: configuration.maxAttributeLength),
            eventsEnabled: configuration.eventsEnabled)
    }

    /// What became of one export's spans.
    public struct Outcome: Sendable {
        public var records: [SpanRecord] = []
        /// Spans refused as invalid; reported to the client (OTLP `rejected_spans`).
        public var rejected = 0
        /// The first few reasons, for the client's message.
        public var rejectionReasons: [String] = []
        /// Spans left out by sampling: counted, not reported as rejected.
        public var droppedBySampling = 0
        /// Spans left out because their trace touched an excluded path.
        public var droppedByExclusion = 0

        public var rejectionMessage: String? {
            guard rejected > 0 else { return nil }
            let more = rejected > rejectionReasons.count ? " (and \(rejected - rejectionReasons.count) more)" : ""
            return "\(rejected) span(s) rejected: " + rejectionReasons.joined(separator: "; ") + more
        }
    }

    public func process(_ export: DecodedExport) -> Outcome {
        var outcome = Outcome()
        var valid: [(TraceID, SpanID, SpanID?, Int)] = []
        valid.reserveCapacity(export.spans.count)

        // Validate ids and times first: the policy decides per trace.
        for (index, span) in export.spans.enumerated() {
            switch validate(span) {
            case .success(let ids): valid.append((ids.0, ids.1, ids.2, index))
            case .failure(let reason):
                outcome.rejected += 1
                if outcome.rejectionReasons.count < 5 {
                    outcome.rejectionReasons.append("span #\(index)\(span.name.isEmpty ? "" : " \"\(span.name.prefix(80))\""): \(reason)")
                }
            }
        }

        var excluded = Set<TraceID>()
        for (traceID, _, _, index) in valid where export.spans[index].kind == .server {
            let attributes = export.spans[index].attributes
            if let path = attributes.text("url.path") ?? attributes.text("http.target").map({ String($0.prefix { $0 != "?" }) })
                ?? attributes.text("http.route"), policy.excludes(path: path)
            {
                excluded.insert(traceID)
                policy.rememberExcluded(traceID)
            }
        }

        var resourceJSON: [String?] = Array(repeating: nil, count: export.origins.count)
        outcome.records.reserveCapacity(valid.count)
        for (traceID, spanID, parentID, index) in valid {
            if excluded.contains(traceID) || policy.wasExcluded(traceID) {
                outcome.droppedByExclusion += 1
                continue
            }
            guard policy.samples(traceID) else {
                outcome.droppedBySampling += 1
                continue
            }
            let span = export.spans[index]
            let origin = export.origins[span.origin]
            if resourceJSON[span.origin] == nil {
                var writer = JSONWriter()
                writer.writeObject(redactor.redact(origin.resourceAttributes))
                resourceJSON[span.origin] = writer.string
            }
            outcome.records.append(
                record(span, traceID: traceID, spanID: spanID, parentID: parentID, origin: origin,
                       resourceJSON: resourceJSON[span.origin] ?? "{}"))
        }
        return outcome
    }

    func record(
        _ span: SpanInput, traceID: TraceID, spanID: SpanID, parentID: SpanID?, origin: SpanOrigin, resourceJSON: String
    ) -> SpanRecord {
        let attributes = redactor.redact(span.attributes)
        let events = eventsEnabled
            ? span.events.map { EventInput(name: redactor.cleanText($0.name), timeUnixNano: $0.timeUnixNano, attributes: redactor.redact($0.attributes)) }
            : []
        let name = span.name.isEmpty ? "(unnamed)" : redactor.cleanText(span.name)
        let (operation, target) = OperationClassifier.classify(name: name, kind: span.kind, attributes: attributes)
        let (status, message) = OperationClassifier.outcome(
            status: span.statusCode, message: span.statusMessage, kind: span.kind, attributes: attributes, events: events)

        var attributesWriter = JSONWriter(capacity: 512)
        attributesWriter.writeObject(attributes)
        var eventsWriter = JSONWriter(capacity: events.isEmpty ? 2 : 512)
        eventsWriter.writeEvents(events)
        return SpanRecord(
            traceID: traceID, spanID: spanID, parentSpanID: parentID, name: name, kind: span.kind,
            operation: operation, target: target.map(redactor.clean),
            serviceName: redactor.clean(origin.serviceName), scopeName: origin.scopeName.map(redactor.clean),
            startTimeUnixNano: span.startTimeUnixNano, endTimeUnixNano: span.endTimeUnixNano,
            status: status, statusMessage: message.map(redactor.cleanText),
            attributesJSON: attributesWriter.string, resourceAttributesJSON: resourceJSON,
            eventsJSON: eventsWriter.string)
    }

    /// The span's ids when it can be stored, or why not. `nowUnixNano` is the server's
    /// clock (a parameter so tests can pin it): times later than it by more than
    /// ``SpanTimeRange/maxFutureSkewSeconds`` are refused, for the span and its events.
    func validate(
        _ span: SpanInput, nowUnixNano: UInt64 = SpanTimeRange.nowUnixNano()
    ) -> Result<(TraceID, SpanID, SpanID?), ValidationFailure> {
        guard let traceBytes = span.traceID else { return .failure("trace id is not hex") }
        guard let traceID = TraceID(bytes: traceBytes) else {
            return .failure("trace id must be 16 bytes, got \(traceBytes.count)")
        }
        guard traceID.isValid else { return .failure("trace id is all zeros") }
        guard let spanBytes = span.spanID else { return .failure("span id is not hex") }
        guard let spanID = SpanID(bytes: spanBytes) else { return .failure("span id must be 8 bytes, got \(spanBytes.count)") }
        guard spanID.isValid else { return .failure("span id is all zeros") }
        var parentID: SpanID?
        if let parentBytes = span.parentSpanID, !parentBytes.isEmpty {
            guard let parent = SpanID(bytes: parentBytes) else {
                return .failure("parent span id must be 8 bytes or empty, got \(parentBytes.count)")
            }
            parentID = parent.isValid ? parent : nil
        } else if span.parentSpanID == nil {
            return .failure("parent span id is not hex")
        }
        guard span.startTimeUnixNano > 0 else { return .failure("start time is missing") }
        guard span.endTimeUnixNano > 0 else { return .failure("end time is missing") }
        guard span.endTimeUnixNano >= span.startTimeUnixNano else { return .failure("end time is before start time") }
        let latest = SpanTimeRange.latestAccepted(nowUnixNano: nowUnixNano)
        guard span.startTimeUnixNano <= latest else { return .failure(Self.tooLate("start time", latest: latest)) }
        guard span.endTimeUnixNano <= latest else { return .failure(Self.tooLate("end time", latest: latest)) }
        if let index = span.events.firstIndex(where: { $0.timeUnixNano > latest }) {
            return .failure(Self.tooLate("event #\(index) time", latest: latest))
        }
        return .success((traceID, spanID, parentID))
    }

    /// Why a time after `latest` is refused; the time itself is not repeated, since a
    /// decoder may have clamped it (a year past 2554 does not fit in nanoseconds).
    static func tooLate(_ what: String, latest: UInt64) -> ValidationFailure {
        ValidationFailure(
            "\(what) is more than \(SpanTimeRange.maxFutureSkewText) ahead of the server's clock"
                + " (latest accepted: \(UnixTime.string(unixNano: latest, style: .rfc3339)))")
    }
}

/// A reason a span was rejected.
struct ValidationFailure: Error, ExpressibleByStringInterpolation, CustomStringConvertible {
    var description: String
    init(stringLiteral value: String) { description = value }
    init(_ value: String) { description = value }
}

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
    /// The most bytes of rows one export may store (`IngestLimits.maxExpandedBytes`).
    public let maxExpandedBytes: Int

    public init(
        policy: TracePolicy, redactor: Redactor, eventsEnabled: Bool,
        maxExpandedBytes: Int = IngestLimits.maxExpandedBytes(bodyLimit: ObservatoryConfiguration().maxBodyBytes)
    ) {
        self.policy = policy
        self.redactor = redactor
        self.eventsEnabled = eventsEnabled
        self.maxExpandedBytes = maxExpandedBytes
    }

    public init(configuration: ObservatoryConfiguration) {
        self.init(
            policy: TracePolicy(sampleRate: configuration.sampleRate, excludePaths: configuration.excludePaths),
            redactor: Redactor(maxValueLength: configuration.maxAttributeLength),
            eventsEnabled: configuration.eventsEnabled,
            maxExpandedBytes: IngestLimits.maxExpandedBytes(bodyLimit: configuration.maxBodyBytes))
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

        /// Set when the spans to store would expand past the limit (the value): nothing is
        /// stored (`records` is empty) and the client is answered 413.
        public var expandedLimitExceeded: Int?

        public var expandedLimitMessage: String? {
            expandedLimitExceeded.map { limit in
                "the export expands to more than \(limit) bytes of stored spans (attributes, events and the resource "
                    + "attributes each span carries); send fewer spans per request or a smaller resource"
            }
        }

        public var rejectionMessage: String? {
            guard rejected > 0 else { return nil }
            let more = rejected > rejectionReasons.count ? " (and \(rejected - rejectionReasons.count) more)" : ""
            return "\(rejected) span(s) rejected: " + rejectionReasons.joined(separator: "; ") + more
        }
    }

    public func process(_ export: DecodedExport) -> Outcome {
        export.spans.withUnsafeBufferPointer { spans in process(export, spans: spans) }
    }

    /// `spans` are `export.spans`, read through a buffer pointer so that no span is copied:
    /// a copy retains each of a span's strings and arrays, and reading an array's element
    /// by subscript copied it. The steps below take a span by pointer for the same reason:
    /// a span passed by value from the buffer was copied at each call, since nothing
    /// proves the buffer unchanged while the callee runs.
    private func process(_ export: DecodedExport, spans: UnsafeBufferPointer<SpanInput>) -> Outcome {
        var outcome = Outcome()
        guard let first = spans.baseAddress else { return outcome }
        // The server's clock, read once for the whole export rather than once per span.
        let nowUnixNano = SpanTimeRange.nowUnixNano()
        var valid: [(TraceID, SpanID, SpanID?, Int)] = []
        valid.reserveCapacity(spans.count)
        // Each resource is redacted, serialized and judged once, however many spans carry it.
        var resources = [ResourceVerdict?](repeating: nil, count: export.origins.count)

        func reject(_ index: Int, _ reason: CustomStringConvertible) {
            outcome.rejected += 1
            if outcome.rejectionReasons.count < 5 {
                let name = spans[index].name
                outcome.rejectionReasons.append(
                    "span #\(index)\(name.isEmpty ? "" : " \"\(name.prefix(80))\""): \(reason)")
            }
        }

        // Validate ids and times first: the policy decides per trace.
        for index in spans.indices {
            switch validate(first + index, nowUnixNano: nowUnixNano) {
            case .success(let ids):
                let origin = spans[index].origin
                if resources[origin] == nil { resources[origin] = resourceVerdict(export.origins[origin]) }
                if case .rejected(let reason) = resources[origin] {
                    reject(index, reason)
                } else if let reason = limitViolation(of: first + index) {
                    reject(index, reason)
                } else {
                    valid.append((ids.0, ids.1, ids.2, index))
                }
            case .failure(let reason):
                reject(index, reason)
            }
        }

        // Each span's attribute index, made once and shared by the path check, redaction,
        // classification and the outcome rules.
        var indexes = [AttributeIndex?](repeating: nil, count: spans.count)
        var excluded = Set<TraceID>()
        // An export's server spans mostly share a path: each distinct path is matched once.
        var pathVerdicts: [String: Bool] = [:]
        for (traceID, _, _, index) in valid where policy.excludesAnyPath && spans[index].kind == .server {
            let attributes = IndexedAttributes(spans[index].attributes)
            indexes[index] = attributes.index
            guard
                let path = attributes.text(.urlPath) ?? attributes.text(.httpTarget).map(OperationClassifier.beforeQuery)
                    ?? attributes.text(.httpRoute)
            else { continue }
            let verdict = pathVerdicts[path] ?? policy.excludes(path: path)
            pathVerdicts[path] = verdict
            if verdict {
                excluded.insert(traceID)
                policy.rememberExcluded(traceID)
            }
        }

        outcome.records.reserveCapacity(valid.count)
        var expandedBytes = 0
        for (traceID, spanID, parentID, index) in valid {
            if policy.excludesAnyPath, excluded.contains(traceID) || policy.wasExcluded(traceID) {
                outcome.droppedByExclusion += 1
                continue
            }
            guard policy.samples(traceID) else {
                outcome.droppedBySampling += 1
                continue
            }
            let origin = spans[index].origin
            guard case .stored(let resource) = resources[origin] else { continue }
            let record = record(
                first + index, traceID: traceID, spanID: spanID, parentID: parentID, resource: resource,
                index: indexes[index] ?? AttributeIndex(spans[index].attributes))
            // Counted as the rows are made, so an export that expands without bound stops here.
            expandedBytes += record.storedBytes
            if expandedBytes > maxExpandedBytes {
                outcome.records = []
                outcome.expandedLimitExceeded = maxExpandedBytes
                return outcome
            }
            outcome.records.append(record)
        }
        return outcome
    }

    /// What becomes of a resource's spans: what they are stored with, or why they are
    /// rejected (`IngestLimits`).
    enum ResourceVerdict {
        case stored(StoredOrigin)
        case rejected(String)
    }

    /// What every span of one resource and scope is stored with, redacted once for all of
    /// them rather than once per span.
    struct StoredOrigin {
        var resourceJSON: String
        var serviceName: String
        var scopeName: String?
    }

    func resourceVerdict(_ origin: SpanOrigin) -> ResourceVerdict {
        if let length = IngestLimits.overlongKey(in: origin.resourceAttributes) {
            return .rejected(
                "a resource attribute key of \(length) bytes exceeds the limit of \(IngestLimits.maxAttributeKeyBytes) bytes")
        }
        var writer = JSONWriter()
        writer.writeObject(redactor.redact(origin.resourceAttributes))
        let json = writer.string
        let size = json.utf8.count
        guard size <= IngestLimits.maxResourceJSONBytes else {
            return .rejected(
                "its resource attributes take \(size) bytes stored with every span, which exceed the limit of "
                    + "\(IngestLimits.maxResourceJSONBytes) bytes")
        }
        return .stored(
            StoredOrigin(
                resourceJSON: json, serviceName: redactor.clean(origin.serviceName),
                scopeName: origin.scopeName.map(redactor.clean)))
    }

    /// Why a span is over the ingest limits on its own, or nil.
    func limitViolation(of span: UnsafePointer<SpanInput>) -> String? {
        let length =
            IngestLimits.overlongKey(in: span.pointee.attributes)
            ?? span.pointee.events.lazy.compactMap { IngestLimits.overlongKey(in: $0.attributes) }.first
        return length.map { "an attribute key of \($0) bytes exceeds the limit of \(IngestLimits.maxAttributeKeyBytes) bytes" }
    }

    func record(
        _ pointer: UnsafePointer<SpanInput>, traceID: TraceID, spanID: SpanID, parentID: SpanID?, resource: StoredOrigin,
        index: AttributeIndex
    ) -> SpanRecord {
        let span = pointer.pointee
        let sent = IndexedAttributes(span.attributes, index: index)
        let attributes = IndexedAttributes(redactor.redact(sent), index: index)
        let events =
            eventsEnabled
            ? span.events.map {
                EventInput(
                    name: redactor.cleanText($0.name), timeUnixNano: $0.timeUnixNano, attributes: redactor.redact($0.attributes))
            }
            : []
        let name = span.name.isEmpty ? "(unnamed)" : redactor.cleanText(span.name)
        let (operation, target) = OperationClassifier.classify(name: name, kind: span.kind, attributes: attributes)
        // The outcome reads the attributes as sent: a tool result longer than
        // OBSERVABILITY_MAX_ATTRIBUTE_LENGTH ends with its "isError" past the cut. What it
        // returns is a status and a message, and the message is cleaned below.
        let (status, message) = OperationClassifier.outcome(
            status: span.statusCode, message: span.statusMessage, kind: span.kind, attributes: sent, events: events)

        var attributesWriter = JSONWriter(capacity: 512)
        attributesWriter.writeObject(attributes.attributes)
        // Most spans have no events: their "[]" is a literal, not a writer's buffer.
        var eventsJSON = "[]"
        if !events.isEmpty {
            var eventsWriter = JSONWriter(capacity: 512)
            eventsWriter.writeEvents(events)
            eventsJSON = eventsWriter.string
        }
        return SpanRecord(
            traceID: traceID, spanID: spanID, parentSpanID: parentID, name: name, kind: span.kind,
            operation: operation, target: target.map(redactor.clean),
            serviceName: resource.serviceName, scopeName: resource.scopeName,
            startTimeUnixNano: span.startTimeUnixNano, endTimeUnixNano: span.endTimeUnixNano,
            status: status, statusMessage: message.map(redactor.cleanText),
            attributesJSON: attributesWriter.string, resourceAttributesJSON: resource.resourceJSON,
            eventsJSON: eventsJSON)
    }

    /// The span's ids when it can be stored, or why not. `nowUnixNano` is the server's
    /// clock (a parameter so tests can pin it): times later than it by more than
    /// ``SpanTimeRange/maxFutureSkewSeconds`` are refused, for the span and its events.
    func validate(
        _ span: SpanInput, nowUnixNano: UInt64 = SpanTimeRange.nowUnixNano()
    ) -> Result<(TraceID, SpanID, SpanID?), ValidationFailure> {
        withUnsafePointer(to: span) { validate($0, nowUnixNano: nowUnixNano) }
    }

    func validate(
        _ pointer: UnsafePointer<SpanInput>, nowUnixNano: UInt64
    ) -> Result<(TraceID, SpanID, SpanID?), ValidationFailure> {
        let span = pointer.pointee
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

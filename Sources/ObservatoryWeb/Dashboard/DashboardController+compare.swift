import Foundation
import Hummingbird
import ObservatoryStore

/// A trace of a comparison that is not stored: 404, naming which side.
struct CompareTraceMissing: Error {
    var side: String
    var traceID: TraceID

    var message: String {
        "No trace with id \(traceID.hex) (\(side)) is stored. It may not have arrived yet, may have been sampled out, or may be older than the retention period."
    }
}

extension DashboardData {
    /// The comparison `query` asks for. The alignment is SQL's (`trace_compare`,
    /// `trace_compare_typical`); each trace's critical path is the trace page's own
    /// (`SpanTree.criticalPath`), so the two pages mark the same spans.
    func compare(_ query: CompareQuery) async throws -> ComparePayload {
        switch query.against {
        case .trace(let id): return try await compare(query, with: id)
        case .typical(let window): return try await compare(query, typicalOver: window)
        }
    }

    /// Trace A beside trace `b`. The two shapes and the alignment need only the ids, so
    /// they are read side by side, on connections of their own.
    private func compare(_ query: CompareQuery, with b: TraceID) async throws -> ComparePayload {
        async let aRead = Self.result { () async throws(DatabaseError) in try await trace(shapeOf: query.a) }
        async let bRead = Self.result { () async throws(DatabaseError) in try await trace(shapeOf: b) }
        async let alignedRead = Self.result { [traces] () async throws(DatabaseError) in try await traces.compare(query.a, b) }
        let (shapeA, shapeB, aligned) = try await (aRead.get(), bRead.get(), alignedRead.get())
        guard let shapeA else { throw CompareTraceMissing(side: "A", traceID: query.a) }
        guard let shapeB else { throw CompareTraceMissing(side: "B", traceID: b) }
        return await TraceWork.run { ComparePayload(query: query, a: shapeA, b: shapeB, typical: nil, aligned: aligned) }
    }

    /// Trace A beside the typical trace of its kind over `window`. The sample needs only
    /// A's root name and service, and the alignment the sample: once A's row is read,
    /// those two run in turn beside the read of A's shape.
    private func compare(_ query: CompareQuery, typicalOver window: MetricWindow) async throws -> ComparePayload {
        guard let summary = try await traces.summary(query.a) else {
            throw CompareTraceMissing(side: "A", traceID: query.a)
        }
        let now = now()
        async let aRead = Self.result { () async throws(DatabaseError) in try await shape(of: summary, query.a) }
        async let typicalRead = Self.result { [traces] () async throws(DatabaseError) in
            let sample = try await traces.typicalSample(
                service: summary.serviceName, rootName: summary.rootName,
                since: now.addingTimeInterval(-Double(window.seconds)), until: SpanTimeRange.latestShown(now: now),
                excluding: query.a, maxTraces: CompareQuery.typicalMaxTraces, maxSpans: CompareQuery.typicalMaxSpans)
            return (sample, try await traces.compare(query.a, typical: sample.traceIDs))
        }
        let (shapeA, (sample, aligned)) = try await (aRead.get(), typicalRead.get())
        let typical = ComparePayload.Typical(
            window: window, rootName: summary.rootName, service: summary.serviceName, sample: sample,
            medianDurationMs: ComparePayload.median(sample.durations))
        return await TraceWork.run { ComparePayload(query: query, a: shapeA, b: nil, typical: typical, aligned: aligned) }
    }

    /// One trace's summary and critical path; nil when it is not stored.
    private func trace(shapeOf id: TraceID) async throws(DatabaseError) -> ComparePayload.Trace? {
        guard let summary = try await traces.summary(id) else { return nil }
        return try await shape(of: summary, id)
    }

    /// The critical path of the trace `summary` describes.
    private func shape(of summary: TraceSummary, _ id: TraceID) async throws(DatabaseError) -> ComparePayload.Trace {
        let spans = try await traces.shapeSpans(of: summary, id)
        return await TraceWork.run { ComparePayload.Trace(summary: summary, spans: spans) }
    }
}

extension DashboardController {
    /// `/admin/observability/compare`: two traces aligned, or one beside the typical trace
    /// of its kind.
    func compare(_ request: Request) async -> Response {
        await answer(title: "Compare traces") {
            let query = try CompareQuery(query: request.uri.query ?? "")
            let payload: ComparePayload
            do {
                payload = try await data.compare(query)
            } catch let missing as CompareTraceMissing {
                return message(.notFound, title: "Trace not found", text: missing.message)
            }
            let chrome = await chrome("Compare traces", active: \.navTraces, save: nil)
            let view = await TraceWork.run { CompareView(payload: payload, chrome: chrome) }
            return renderer.html("compare", view)
        }
    }
}

extension DashboardAPIController {
    /// `/api/v1/compare`: the same comparison as JSON.
    func compare(_ request: Request) async -> Response {
        do {
            let query = try CompareQuery(query: request.uri.query ?? "")
            let payload = try await data.compare(query)
            return Self.json(CompareJSON(payload: payload))
        } catch let missing as CompareTraceMissing {
            return Self.error(.notFound, "no trace with id \(missing.traceID.hex) (\(missing.side))")
        } catch {
            return failure(error)
        }
    }
}

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
        guard let a = try await trace(shapeOf: query.a) else { throw CompareTraceMissing(side: "A", traceID: query.a) }
        let summary = a.summary
        switch query.against {
        case .trace(let id):
            guard let b = try await trace(shapeOf: id) else { throw CompareTraceMissing(side: "B", traceID: id) }
            let aligned = try await traces.compare(query.a, id)
            return await TraceWork.run { ComparePayload(query: query, a: a, b: b, typical: nil, aligned: aligned) }
        case .typical(let window):
            let now = now()
            let sample = try await traces.typicalSample(
                service: summary.serviceName, rootName: summary.rootName,
                since: now.addingTimeInterval(-Double(window.seconds)), until: SpanTimeRange.latestShown(now: now),
                excluding: query.a, maxTraces: CompareQuery.typicalMaxTraces, maxSpans: CompareQuery.typicalMaxSpans)
            let aligned = try await traces.compare(query.a, typical: sample.traceIDs)
            let typical = ComparePayload.Typical(
                window: window, rootName: summary.rootName, service: summary.serviceName, sample: sample,
                medianDurationMs: ComparePayload.median(sample.durations))
            return await TraceWork.run { ComparePayload(query: query, a: a, b: nil, typical: typical, aligned: aligned) }
        }
    }

    /// One trace's summary and critical path; nil when it is not stored.
    private func trace(shapeOf id: TraceID) async throws(DatabaseError) -> ComparePayload.Trace? {
        guard let (summary, spans) = try await traces.traceShape(id) else { return nil }
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

import Foundation
import Hummingbird
import Logging
import ObservatoryConfiguration
import ObservatoryStore

/// The JSON twins of the dashboard pages under /api/v1: the same filters, the same data
/// (both go through DashboardData). Documented in docs/api.md.
public struct DashboardAPIController: Sendable {
    let data: DashboardData
    let metricsEnabled: Bool
    /// The stores read from a hot standby (`OBSERVABILITY_READ_DATABASE_URL`): its failures
    /// are named as the read replica's.
    let readReplica: Bool
    let logger: Logger

    public init(
        metrics: MetricsStore, traces: TraceStore, calls: CallStore, metricsEnabled: Bool = true, readReplica: Bool = false,
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.data = DashboardData(metrics: metrics, traces: traces, calls: calls, now: now)
        self.metricsEnabled = metricsEnabled
        self.readReplica = readReplica
        self.logger = logger
    }

    static func metricsOff() -> Response {
        error(.notFound, "metrics are turned off on this server (\(ObservatoryConfiguration.key(for: \.metricsEnabled))=false)")
    }

    /// The routes, under `group` (the /api/v1 read group, which carries the Basic auth
    /// middleware when credentials are configured).
    public func addRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("metrics/summary") { request, _ in
            guard metricsEnabled else { return Self.metricsOff() }
            return await answer {
                try await data.summary(try MetricsQuery(request.queryDictionary, defaultLimit: 10))
            }
        }
        for page in OperationPage.allCases {
            group.get("metrics/\(page.rawValue)") { request, _ in
                guard metricsEnabled else { return Self.metricsOff() }
                return await answer { try await data.operations(page, try MetricsQuery(request.queryDictionary)) }
            }
        }
        group.get("traces") { request, _ in
            await answer {
                try await data.traceList(try TraceListQuery(request))
            }
        }
        group.get("sessions/:id") { _, context in
            do {
                let session = try parseSessionParameter(context.parameters.get("id"))
                let payload = try await data.session(session)
                return Response(
                    status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: payload.json)))
            } catch {
                return failure(error)
            }
        }
        addExportRoutes(to: group)
        group.get("exemplar") { request, _ in await exemplar(request) }
        group.get("compare") { request, _ in await compare(request) }
        group.get("traces/:id") { _, context in
            do {
                let traceID = try parseTraceID(context.parameters.get("id") ?? "")
                guard let payload = try await data.trace(traceID) else {
                    return Self.error(.notFound, "no trace with id \(traceID.hex)")
                }
                let json = await TraceWork.run { payload.json }
                return Response(
                    status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
            } catch {
                return failure(error)
            }
        }
    }

    func answer(_ body: () async throws -> some Encodable) async -> Response {
        do {
            return Self.json(try await body())
        } catch {
            return failure(error)
        }
    }

    func failure(_ error: any Error) -> Response {
        let failure = requestFailure(error, readReplica: readReplica)
        if failure.isServerSide { logger.error("API request failed", metadata: ["error": "\(error)"]) }
        return Self.answer(failure)
    }

    /// The JSON error answer of a failure, with `Retry-After` when it has one.
    static func answer(_ failure: some RequestFailure) -> Response {
        error(failure.status, failure.clientMessage, retryAfter: failure.retryAfterSeconds)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        do {
            let body = try APIJSON.encoder().encode(value)
            return Response(
                status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        } catch {
            return Self.error(.internalServerError, "the answer could not be encoded")
        }
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) -> Response {
        var response = NativeAnswer.error(status, message, retryAfter: retryAfter)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

import Foundation
import Hummingbird
import ObservatoryStore

extension DashboardAPIController {
    /// Bytes an export gathers before writing them to the connection.
    static let exportChunkBytes = 64 * 1_024

    /// The downloads: one trace as OTLP/JSON, a filtered trace list as NDJSON or CSV.
    func addExportRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("traces/:id/otlp") { _, context in
            do {
                let traceID = try parseTraceID(context.parameters.get("id") ?? "")
                guard let json = try await data.traces.otlp(traceID) else {
                    return Self.error(.notFound, "no trace with id \(traceID.hex)")
                }
                return Response(
                    status: .ok,
                    headers: [
                        .contentType: "application/json", .cacheControl: "no-store",
                        .contentDisposition: "attachment; filename=\"trace-\(traceID.hex).otlp.json\"",
                    ],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
            } catch {
                return failure(error)
            }
        }
        for format in TraceListExport.allCases {
            group.get("traces.\(format.rawValue)") { request, _ in await exportTraceList(format, request) }
        }
    }

    /// Every trace the filters of the trace list match in its window, newest first,
    /// streamed page by page (``TraceStore/exportPageSize`` at a time), so memory holds one
    /// page whatever the count. A bad filter or a database that cannot answer the first
    /// page gets its status as usual; a failure later, once the answer has started, ends
    /// the connection without the chunked encoding's last chunk, so a client sees an
    /// incomplete download rather than a short file that looks whole.
    func exportTraceList(_ format: TraceListExport, _ request: Request) async -> Response {
        let filter: TraceFilter
        let first: [ExportedTrace]
        do {
            let query = try TraceListQuery(request)
            filter = query.filter(now: data.now())
            first = try await data.traces.exportPage(filter, after: nil, limit: TraceStore.exportPageSize)
        } catch {
            return failure(error)
        }
        let traces = data.traces
        let logger = logger
        let body = ResponseBody { writer in
            var buffer = ByteBuffer(string: format.header)
            var page = first
            while true {
                for trace in page {
                    buffer.writeBytes(format.line(trace))
                    if buffer.readableBytes >= Self.exportChunkBytes {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                guard page.count == TraceStore.exportPageSize, let last = page.last else { break }
                do {
                    page = try await traces.exportPage(filter, after: last.cursor, limit: TraceStore.exportPageSize)
                } catch {
                    logger.error("trace export ended early", metadata: ["error": "\(error)"])
                    throw error
                }
            }
            try await writer.write(buffer)
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: format.contentType, .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"traces.\(format.rawValue)\"",
            ],
            body: body)
    }
}

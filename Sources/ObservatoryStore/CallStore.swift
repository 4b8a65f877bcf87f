import Foundation
import Logging
import PostgresNIO

/// Reads and assembles MCP calls (migrations/0011): one row per side of each request,
/// built from spans by `observability.assemble_calls()`. Only SQL here.
public struct CallStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// What one `assemble_calls()` call did.
    public struct Assembly: Sendable, Equatable {
        /// false when another session was assembling.
        public var ran: Bool
        public var traces: Int
        public var calls: Int
    }

    /// Assembles the calls of traces that changed since the last run and have been quiet
    /// for `settle`, at most `maxTraces` of them.
    public func assemble(settle: Duration, maxTraces: Int, now: Date? = nil) async throws(DatabaseError) -> Assembly {
        let settleSeconds = Double(settle.components.seconds) + Double(settle.components.attoseconds) / 1e18
        do {
            let rows = try await client.tracedQuery(
                """
                SELECT ran, traces_assembled, calls_written
                FROM observability.assemble_calls(coalesce(\(now)::timestamptz, now()),
                                                  \(settleSeconds) * interval '1 second', \(maxTraces)::integer)
                """, logger: logger)
            for (ran, traces, calls) in try rows.decode((Bool, Int, Int).self) {
                return Assembly(ran: ran, traces: traces, calls: calls)
            }
            return Assembly(ran: false, traces: 0, calls: 0)
        } catch {
            throw DatabaseError(error)
        }
    }

    static let callColumns = """
        observability.hex_trace_id(c.trace_id), c.side, observability.hex_span_id(c.span_id),
        ARRAY(SELECT observability.hex_span_id(x) FROM unnest(c.span_ids) AS x), c.method, c.target, c.server_name,
        c.client_name, c.service_name, c.session_id, c.start_time, c.duration_ms, c.client_duration_ms,
        c.server_duration_ms, c.status, c.request_status, c.error_message, c.counted
        """

    /// The calls of one trace, in start order: the trace page marks the spans of each.
    ///
    /// `from`/`through` are the trace's first start and last end, the bounds its spans are
    /// read with: a call starts with its outermost span, so it lies between them, and the
    /// query reads those days' partitions only instead of probing the trace-id index of
    /// every daily partition kept. They are padded (`TraceBounds`).
    public func calls(trace id: TraceID, from: Date, through: Date) async throws(DatabaseError) -> [StoredCall] {
        let (lower, upper) = TraceBounds.padded(from: from, through: through)
        return try await calls(
            """
            SELECT \(unescaped: Self.callColumns) FROM observability.calls c
            WHERE c.trace_id = \(id) AND c.start_time >= \(lower) AND c.start_time <= \(upper)
            ORDER BY c.start_time, c.side
            """)
    }

    /// The requests of one MCP session in start order (the counted side of each), at most
    /// `limit` + 1 so the caller knows whether there are more.
    public func session(_ sessionID: String, limit: Int) async throws(DatabaseError) -> [StoredCall] {
        try await calls(
            """
            SELECT \(unescaped: Self.callColumns) FROM observability.calls c
            WHERE c.session_id = \(sessionID) AND c.counted
            ORDER BY c.start_time, c.trace_id, c.span_id
            LIMIT \(limit + 1)
            """)
    }

    private func calls(_ query: PostgresQuery) async throws(DatabaseError) -> [StoredCall] {
        do {
            var result: [StoredCall] = []
            let rows = try await client.tracedQuery(query, logger: logger).decode(
                (
                    String, String, String, [String], String, String?, String?, String?, String, String?, Date, Double,
                    Double?, Double?, String, String, String?, Bool
                ).self)
            for (
                traceID, side, spanID, spanIDs, method, target, server, clientName, service, session, start, duration,
                clientDuration, serverDuration, status, requestStatus, message, counted
            ) in rows {
                result.append(
                    StoredCall(
                        traceID: traceID, side: try CallSide(stored: side), spanID: spanID, spanIDs: spanIDs,
                        method: method, target: target, server: server, client: clientName, service: service,
                        sessionID: session, startTime: start, durationMs: duration, clientDurationMs: clientDuration,
                        serverDurationMs: serverDuration, failed: status == SpanStatus.error.rawValue,
                        requestFailed: requestStatus == SpanStatus.error.rawValue, errorMessage: message,
                        counted: counted))
            }
            return result
        } catch let error as DatabaseError {
            throw error
        } catch {
            throw DatabaseError(error)
        }
    }
}

/// One side of one MCP request as `observability.calls` holds it, ids in hex.
public struct StoredCall: Sendable, Equatable {
    public var traceID: String
    public var side: CallSide
    /// The outermost span of this side's chain.
    public var spanID: String
    /// Every span of the chain, outermost first.
    public var spanIDs: [String]
    public var method: String
    public var target: String?
    public var server: String?
    public var client: String?
    /// The service that recorded this side.
    public var service: String
    public var sessionID: String?
    public var startTime: Date
    public var durationMs: Double
    public var clientDurationMs: Double?
    public var serverDurationMs: Double?
    /// This side failed.
    public var failed: Bool
    /// Either side of the request failed.
    public var requestFailed: Bool
    public var errorMessage: String?
    /// The row metrics count for the request.
    public var counted: Bool

    public init(
        traceID: String, side: CallSide, spanID: String, spanIDs: [String], method: String, target: String?,
        server: String?, client: String?, service: String, sessionID: String?, startTime: Date, durationMs: Double,
        clientDurationMs: Double?, serverDurationMs: Double?, failed: Bool, requestFailed: Bool, errorMessage: String?,
        counted: Bool
    ) {
        self.traceID = traceID
        self.side = side
        self.spanID = spanID
        self.spanIDs = spanIDs
        self.method = method
        self.target = target
        self.server = server
        self.client = client
        self.service = service
        self.sessionID = sessionID
        self.startTime = startTime
        self.durationMs = durationMs
        self.clientDurationMs = clientDurationMs
        self.serverDurationMs = serverDurationMs
        self.failed = failed
        self.requestFailed = requestFailed
        self.errorMessage = errorMessage
        self.counted = counted
    }
}

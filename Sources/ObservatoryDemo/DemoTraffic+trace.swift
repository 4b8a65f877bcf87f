import Foundation
import ObservatoryOTLP

// Building one trace: draw the operation and its outcome, lay out the
// downstream calls in time, then emit the spans parents first.
extension DemoTraffic {
    enum Outcome: Equatable {
        case success
        /// Status ERROR with an `exception` event; the root fails too.
        case exception
        /// A JSON-RPC error response: status UNSET, `rpc.jsonrpc.error_code` set.
        case jsonRPCError
        /// A tool result flagged `isError`: status OK, `mcp.tool.is_error` true.
        case toolError
    }

    enum Call {
        case database(QueryTemplate)
        case http(HTTPCallTemplate)
    }

    mutating func placeTrace() -> [PlacedSpan] {
        let rootStart = startUnixNano &+ UInt64(tracesGenerated) &* spacingNanos
        tracesGenerated += 1
        let traceID = rng.nonZeroBytes(16)
        let rootID = rng.nonZeroBytes(8)
        let operationID = rng.nonZeroBytes(8)

        let sessionIndex = rng.int(in: 0...(sessions.count - 1))
        if rng.chance(0.02) { sessions[sessionIndex] = DemoSession(&rng) }  // clients come and go
        let requestID = sessions[sessionIndex].takeRequestID()
        let session = sessions[sessionIndex]
        let gateway = rng.int(in: DemoTopology.gatewayResources)
        let tools = rng.int(in: DemoTopology.toolsResources)

        let method = rng.pick(DemoCatalog.methodWeights) { $0.1 }.0
        let profile = rng.pick(DemoCatalog.operations(for: method)) { $0.weight }
        let outcome = drawOutcome(profile)

        // Downstream calls; invalid params are rejected before any is made,
        // and a failing call is the last one made.
        var calls: [Call] = []
        if outcome != .jsonRPCError {
            for _ in 0..<rng.int(in: profile.dbCalls) {
                calls.append(.database(rng.pick(profile.queries)))
            }
            if let http = profile.http { calls.append(.http(http)) }
        }
        var failure: DemoFailure?
        var failingCall: Int?
        if outcome == .exception {
            if !calls.isEmpty && rng.chance(0.6) {
                let index = rng.int(in: 0...(calls.count - 1))
                calls.removeSubrange((index + 1)...)
                failingCall = index
                switch calls[index] {
                case .database: failure = rng.pick(DemoFailures.database)
                case .http: failure = rng.pick(DemoFailures.http)
                }
            } else {
                failure = rng.pick(profile.failures)
            }
        }

        // Calls run one after another inside the operation, with small gaps,
        // so every child starts after and ends before its parent.
        let operationStart = rootStart + Self.nanos(rng.uniform(0.3, 2.5))
        var cursor = operationStart + gap()
        var callSpans: [PlacedSpan] = []
        for (index, call) in calls.enumerated() {
            let failed = index == failingCall ? failure : nil
            let spanID = rng.nonZeroBytes(8)
            var span: Span
            var scope: DemoTopology.Scope
            switch call {
            case .database(let query):
                let millis =
                    failed?.fixedMillis.map { $0 * rng.uniform(1, 1.02) }
                    ?? (rng.chance(0.03) ? rng.uniform(1000, 2600) : rng.logNormal(median: query.medianMillis, sigma: 0.6))
                span = databaseSpan(query, failure: failed)
                span.startTimeUnixNano = cursor
                span.endTimeUnixNano = cursor + Self.nanos(millis)
                scope = .database
            case .http(let template):
                let millis =
                    failed?.fixedMillis.map { $0 * rng.uniform(1, 1.02) }
                    ?? rng.logNormal(median: profile.medianMillis * template.shareOfMedian, sigma: profile.sigma)
                span = httpClientSpan(template, failure: failed)
                span.startTimeUnixNano = cursor
                span.endTimeUnixNano = cursor + Self.nanos(millis)
                scope = .http
            }
            span.traceID = traceID
            span.spanID = spanID
            span.parentSpanID = operationID
            cursor = span.endTimeUnixNano + gap()
            callSpans.append(PlacedSpan(resource: tools, scope: scope, span: span))
        }

        var operationMillis =
            outcome == .jsonRPCError
            ? rng.uniform(0.4, 3)
            : rng.logNormal(median: profile.medianMillis, sigma: profile.sigma)
        if outcome != .jsonRPCError && rng.chance(0.01) {
            operationMillis *= rng.uniform(5, 20)  // the rare request that stalls
        }
        let operationEnd = max(operationStart + Self.nanos(operationMillis), cursor + gap())
        let rootEnd = operationEnd + Self.nanos(rng.uniform(0.2, 1.5))

        var operation = operationSpan(
            profile, outcome: outcome, failure: failure, session: session, requestID: requestID, end: operationEnd)
        operation.traceID = traceID
        operation.spanID = operationID
        operation.parentSpanID = rootID
        operation.startTimeUnixNano = operationStart
        operation.endTimeUnixNano = operationEnd

        var root = rootSpan(session: session, failure: failure)
        root.traceID = traceID
        root.spanID = rootID
        root.startTimeUnixNano = rootStart
        root.endTimeUnixNano = rootEnd

        return [
            PlacedSpan(resource: gateway, scope: .gateway, span: root),
            PlacedSpan(resource: gateway, scope: .gateway, span: operation),
        ] + callSpans
    }

    mutating func drawOutcome(_ profile: OperationProfile) -> Outcome {
        guard rng.chance(profile.errorRate) else { return .success }
        let roll = rng.unit()
        switch profile.method {
        case .toolsCall: return roll < 0.45 ? .exception : roll < 0.7 ? .jsonRPCError : .toolError
        case .promptsGet: return roll < 0.5 ? .exception : .jsonRPCError
        case .resourcesRead: return roll < 0.4 ? .exception : .jsonRPCError
        }
    }

    mutating func gap() -> UInt64 {
        Self.nanos(rng.uniform(0.05, 1.0))
    }

    static func nanos(_ millis: Double) -> UInt64 {
        UInt64(max(millis * 1_000_000, 1_000).rounded())
    }

    /// The gateway's HTTP server span, with the headers redaction must catch.
    func rootSpan(session: DemoSession, failure: DemoFailure?) -> Span {
        var span = Span()
        span.name = "POST /mcp"
        span.kind = .server
        span.attributes = [
            .string("http.request.method", "POST"),
            .string("http.route", "/mcp"),
            .string("url.path", "/mcp"),
            .string("url.scheme", "https"),
            .string("server.address", "mcp.acme.internal"),
            .int("server.port", 443),
            .string("network.protocol.version", "1.1"),
            .string("client.address", session.clientAddress),
            .string("user_agent.original", session.userAgent),
            .string("http.request.header.content-type", "application/json"),
            .string("http.request.header.authorization", session.authorization),
            .string("http.request.header.cookie", session.cookie),
            .string("http.request.header.mcp-session-id", session.id),
            .int("http.response.status_code", failure == nil ? 200 : 500),
        ]
        if let failure {
            span.attributes.append(.string("error.type", failure.type))
            span.status.code = .error
            span.status.message = failure.type
        }
        return span
    }

    /// The MCP operation span, per the OpenTelemetry MCP semantic conventions.
    mutating func operationSpan(
        _ profile: OperationProfile, outcome: Outcome, failure: DemoFailure?,
        session: DemoSession, requestID: String, end: UInt64
    ) -> Span {
        var span = Span()
        span.name = profile.spanName
        span.kind = .server
        span.attributes = [.string("mcp.method.name", profile.method.rawValue)]
        switch profile.method {
        case .toolsCall:
            span.attributes += [.string("gen_ai.tool.name", profile.target), .string("gen_ai.operation.name", "execute_tool")]
        case .promptsGet:
            span.attributes.append(.string("gen_ai.prompt.name", profile.target))
        case .resourcesRead:
            span.attributes.append(.string("mcp.resource.uri", profile.target))
        }
        span.attributes += [
            .string("mcp.session.id", session.id),
            .string("jsonrpc.request.id", requestID),
            .string("mcp.protocol.version", "2025-06-18"),
            .string("network.transport", "tcp"),
        ]
        switch outcome {
        case .success:
            span.status.code = .ok
        case .toolError:
            span.attributes.append(.bool("mcp.tool.is_error", true))
            span.status.code = .ok
        case .jsonRPCError:
            let notFound = profile.method == .resourcesRead && rng.chance(0.6)
            span.attributes +=
                notFound
                ? [
                    .int("rpc.jsonrpc.error_code", -32002),
                    .string("rpc.jsonrpc.error_message", "Resource not found: \(profile.target)"),
                ]
                : [
                    .int("rpc.jsonrpc.error_code", -32602),
                    .string("rpc.jsonrpc.error_message", "Invalid params: '\(profile.argument)' is a required property"),
                ]
        case .exception:
            guard let failure else { break }
            span.attributes.append(.string("error.type", failure.type))
            span.status.code = .error
            span.status.message = failure.message
            var event = Opentelemetry_Proto_Trace_V1_Span.Event()
            event.name = "exception"
            event.timeUnixNano = end - 20_000
            event.attributes = [
                .string("exception.type", failure.type),
                .string("exception.message", failure.message),
                .string(
                    "exception.stacktrace",
                    failure.traceback(
                        dispatcher: profile.dispatcher, handlerFile: profile.handlerFile,
                        handlerFunction: profile.handlerFunction, line: rng.int(in: 18...240))),
            ]
            span.events = [event]
        }
        return span
    }

    mutating func databaseSpan(_ query: QueryTemplate, failure: DemoFailure?) -> Span {
        var span = Span()
        span.name = "\(query.operation) \(query.collection)"
        span.kind = .client
        span.attributes = [
            .string("db.system.name", "postgresql"),
            .string("db.namespace", "tools"),
            .string("db.operation.name", query.operation),
            .string("db.collection.name", query.collection),
            .string("db.query.text", query.render(&rng)),
            .string("server.address", "pg-primary.internal"),
            .int("server.port", 5432),
        ]
        if let failure {
            span.attributes.append(.string("error.type", failure.type))
            if let sqlState = failure.sqlState { span.attributes.append(.string("db.response.status_code", sqlState)) }
            span.status.code = .error
            span.status.message = failure.message
        }
        return span
    }

    mutating func httpClientSpan(_ template: HTTPCallTemplate, failure: DemoFailure?) -> Span {
        var span = Span()
        span.name = template.method
        span.kind = .client
        span.attributes = [
            .string("http.request.method", template.method),
            .string("url.full", template.url(&rng)),
            .string("server.address", template.host),
            .int("server.port", 443),
            .string("network.protocol.version", "1.1"),
        ]
        if let failure {
            if let status = failure.httpStatus { span.attributes.append(.int("http.response.status_code", status)) }
            span.attributes.append(.string("error.type", failure.type))
            span.status.code = .error
            span.status.message = failure.message
        } else {
            span.attributes.append(.int("http.response.status_code", template.method == "POST" ? 201 : 200))
        }
        return span
    }
}

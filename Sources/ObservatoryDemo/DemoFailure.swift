/// An exception the (Python) tool server raises, with what is needed to render
/// a believable multi-line traceback for the `exception` span event.
struct DemoFailure: Sendable {
    let type: String
    let message: String
    /// The line in the handler that raised, as the traceback shows it.
    let callSite: String
    /// Frames below the handler, two lines each, already formatted.
    let libraryFrames: [String]
    /// Timeouts take as long as the timeout, whatever the usual latency.
    var fixedMillis: Double? = nil
    /// SQLSTATE for database failures (`db.response.status_code`).
    var sqlState: String? = nil
    /// Upstream status for HTTP failures that got a response.
    var httpStatus: Int? = nil

    /// `exception.stacktrace`, as Python's `traceback.format_exc()` would print it.
    func traceback(dispatcher: String, handlerFile: String, handlerFunction: String, line: Int) -> String {
        var lines = [
            "Traceback (most recent call last):",
            "  File \"/app/mcp_tools/server.py\", line 214, in \(dispatcher)",
            "    result = await handler(**arguments)",
            "  File \"\(handlerFile)\", line \(line), in \(handlerFunction)",
            "    \(callSite)",
        ]
        lines += libraryFrames
        lines.append("\(type): \(message)")
        return lines.joined(separator: "\n")
    }
}

/// The exceptions demo operations fail with, grouped by where they arise.
enum DemoFailures {
    static let database: [DemoFailure] = [
        DemoFailure(
            type: "asyncpg.exceptions.QueryCanceledError",
            message: "canceling statement due to statement timeout",
            callSite: "rows = await conn.fetch(query, *params)",
            libraryFrames: asyncpgFrames,
            fixedMillis: 3000, sqlState: "57014"
        ),
        DemoFailure(
            type: "asyncpg.exceptions.UndefinedTableError",
            message: "relation \"orderz\" does not exist",
            callSite: "rows = await conn.fetch(query, *params)",
            libraryFrames: asyncpgFrames,
            sqlState: "42P01"
        ),
        DemoFailure(
            type: "asyncpg.exceptions.UniqueViolationError",
            message: "duplicate key value violates unique constraint \"orders_pkey\"",
            callSite: "await conn.execute(query, *params)",
            libraryFrames: asyncpgFrames,
            sqlState: "23505"
        ),
    ]

    static let http: [DemoFailure] = [
        DemoFailure(
            type: "httpx.ReadTimeout",
            message: "The read operation timed out",
            callSite: "response = await client.request(method, url, params=params)",
            libraryFrames: httpxFrames,
            fixedMillis: 5000
        ),
        DemoFailure(
            type: "httpx.ConnectError",
            message: "[Errno 111] Connection refused",
            callSite: "response = await client.request(method, url, params=params)",
            libraryFrames: httpxFrames
        ),
        DemoFailure(
            type: "httpx.HTTPStatusError",
            message: "Server error '502 Bad Gateway' for url 'https://upstream/'",
            callSite: "response.raise_for_status()",
            libraryFrames: [
                "  File \"/usr/local/lib/python3.12/site-packages/httpx/_models.py\", line 829, in raise_for_status",
                "    raise HTTPStatusError(message, request=request, response=self)",
            ],
            httpStatus: 502
        ),
    ]

    static func generic(_ type: String, _ message: String, _ callSite: String) -> DemoFailure {
        DemoFailure(type: type, message: message, callSite: callSite, libraryFrames: [])
    }

    static let asyncpgFrames = [
        "  File \"/usr/local/lib/python3.12/site-packages/asyncpg/connection.py\", line 690, in fetch",
        "    return await self._execute(query, args, 0, timeout)",
        "  File \"/usr/local/lib/python3.12/site-packages/asyncpg/connection.py\", line 1864, in _execute",
        "    result, _ = await self.__execute(",
        "  File \"asyncpg/protocol/protocol.pyx\", line 207, in bind_execute",
    ]

    static let httpxFrames = [
        "  File \"/usr/local/lib/python3.12/site-packages/httpx/_client.py\", line 1585, in request",
        "    return await self.send(request, auth=auth, follow_redirects=follow_redirects)",
        "  File \"/usr/local/lib/python3.12/site-packages/httpx/_transports/default.py\", line 372, in handle_async_request",
        "    with map_httpcore_exceptions():",
    ]
}

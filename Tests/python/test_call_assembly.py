"""Call assembly (migrations/0011) through the real ingest path: spans posted as OTLP
protobuf, classified at ingest, assembled in SQL by `assemble_calls()`.

The span shapes are those real libraries send (../shared/MCP-SPAN-SHAPES.md):
FastMCP's client chain (`tools/call X` with the MCP SDK's `MCP send tools/call X` under
it) and server span; ContextForge's gateway spans. Each test computes what the calls
must be from the spans it sent and compares with `observability.calls`.
"""

from __future__ import annotations

import time

from browser import refresh_metrics
from payloads import SpanSpec, export_bytes, now_ns, post_protobuf, signed_span_id, span_id, trace_id, trace_uuid

MS = 1_000_000


def post(http, server, spans_by_service: dict[str, list[SpanSpec]]) -> None:
    answer = post_protobuf(http, server.traces_url, export_bytes(spans_by_service))
    assert answer.status_code == 200, answer.content


def assemble(db, settle: str = "0") -> dict:
    """One assembly run over every changed trace; retried while the service's own
    maintenance holds the lock."""
    deadline = time.monotonic() + 20
    while True:
        row = db.one("SELECT * FROM observability.assemble_calls(p_settle => %s::interval, p_max_traces => NULL)", settle)
        if row["ran"]:
            return row
        assert time.monotonic() < deadline, "assemble_calls stayed busy"
        time.sleep(0.1)


def calls(db, tid: bytes) -> list[dict]:
    return db.rows("SELECT * FROM observability.calls WHERE trace_id = %s::uuid ORDER BY start_time, side",
                   trace_uuid(tid))


def fastmcp_call(tid, t0, tool, *, client="agent", server="tools-server", parent=None, failed=False,
                 is_error=False, session="s-1", request_id="7"):
    """One FastMCP tools/call: the client's two spans and the server's span, as FastMCP
    4 sends them. `failed`: the tool raised (server span error). `is_error`: the tool
    returned isError (error.type on the client span only)."""
    outer = SpanSpec(tid, span_id(), f"tools/call {tool}", t0, t0 + 50 * MS, kind="client", parent_span_id=parent,
                     status="error" if is_error else "unset",
                     attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": tool,
                                 "gen_ai.operation.name": "execute_tool", "fastmcp.component.key": f"tool:{tool}",
                                 **({"error.type": "tool_error"} if is_error else {})})
    send = SpanSpec(tid, span_id(), f"MCP send tools/call {tool}", t0 + 1 * MS, t0 + 49 * MS, kind="client",
                    parent_span_id=outer.span_id,
                    attributes={"mcp.method.name": "tools/call", "jsonrpc.request.id": request_id})
    handled = SpanSpec(tid, span_id(), f"tools/call {tool}", t0 + 5 * MS, t0 + 35 * MS, kind="server",
                       parent_span_id=send.span_id, status="error" if failed else "unset",
                       status_message="boom" if failed else "",
                       attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": tool,
                                   "fastmcp.server.name": server, "mcp.session.id": session,
                                   "mcp.protocol.version": "2025-11-25", "jsonrpc.request.id": request_id,
                                   **({"error.type": "RuntimeError"} if failed else {})})
    return outer, send, handled


def test_client_and_server_sides_are_one_request(server, db, http):
    tid = trace_id()
    outer, send, handled = fastmcp_call(tid, now_ns(), "add", is_error=True)
    post(http, server, {"agent": [outer, send], "tools-server-svc": [handled]})
    assemble(db)

    rows = calls(db, tid)
    assert [(r["side"], r["counted"]) for r in rows] == [("client", False), ("server", True)]
    client, srv = rows
    for row in rows:
        assert row["method"] == "tools/call" and row["target"] == "add"
        assert row["client_span_id"] == signed_span_id(outer.span_id)
        assert row["server_span_id"] == signed_span_id(handled.span_id)
        assert row["server_name"] == "tools-server"  # fastmcp.server.name, not the service name
        assert row["client_name"] == "agent"
        assert row["session_id"] == "s-1" and row["request_id"] == "7" and row["protocol_version"] == "2025-11-25"
        assert abs(row["client_duration_ms"] - 50) < 1e-6 and abs(row["server_duration_ms"] - 30) < 1e-6
        # isError shows on the client span only: the request failed, seen from either row.
        assert row["request_status"] == "error" and row["error_type"] == "tool_error"
    assert client["span_ids"] == [signed_span_id(outer.span_id), signed_span_id(send.span_id)]
    assert client["status"] == "error" and srv["status"] == "ok"
    assert srv["service_name"] == "tools-server-svc"

    request = db.one("SELECT * FROM observability.mcp_requests WHERE trace_id = %s::uuid", trace_uuid(tid))
    assert abs(request["overhead_ms"] - 20) < 1e-6


def test_sides_arriving_late_and_out_of_order_are_reassembled(server, db, http):
    tid = trace_id()
    outer, send, handled = fastmcp_call(tid, now_ns(), "search", request_id="11")
    post(http, server, {"tools-server-svc": [handled]})
    # Within the settle margin nothing of this trace is assembled.
    assemble(db, settle="1 hour")
    assert calls(db, tid) == []
    assemble(db)
    alone = calls(db, tid)
    assert [(r["side"], r["counted"], r["client_span_id"]) for r in alone] == [("server", True, None)]

    # The client's spans arrive after the trace was assembled, in two exports, inner first.
    post(http, server, {"agent": [send]})
    post(http, server, {"agent": [outer]})
    assemble(db)
    rows = calls(db, tid)
    assert [(r["side"], r["counted"]) for r in rows] == [("client", False), ("server", True)]
    assert {r["client_span_id"] for r in rows} == {signed_span_id(outer.span_id)}
    assert all(r["request_status"] == "ok" for r in rows)


def test_duplicate_exports_and_repeated_assembly_change_nothing(server, db, http):
    tid = trace_id()
    spans = fastmcp_call(tid, now_ns(), "fetch", failed=True)
    for _ in range(2):
        post(http, server, {"agent": list(spans[:2]), "tools-server-svc": [spans[2]]})
    assemble(db)
    first = calls(db, tid)
    # Assemble the same trace again by hand: the same rows, not twice as many.
    db.execute("SELECT observability_internal.assemble_trace_calls(ARRAY[t.trace_id], ARRAY[t.start_time], "
               "ARRAY[t.end_time]) FROM observability.traces t WHERE t.trace_id = %s::uuid", trace_uuid(tid))
    again = calls(db, tid)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "assembled_at"} for r in rows]  # noqa: E731
    assert strip(again) == strip(first)
    assert len(first) == 2 and sum(r["counted"] for r in first) == 1
    assert first[1]["status"] == "error" and first[1]["error_message"] == "boom"


def test_a_side_without_its_peer_is_a_request_of_its_own(server, db, http):
    lone_client, lone_server = trace_id(), trace_id()
    t0 = now_ns()
    outer, send, _ = fastmcp_call(lone_client, t0, "only-client")
    upstream = SpanSpec(lone_client, span_id(), "POST", t0 + 2 * MS, t0 + 48 * MS, kind="client",
                        parent_span_id=send.span_id,
                        attributes={"http.request.method": "POST", "url.full": "http://upstream.example:9000/mcp"})
    send.attributes["server.address"] = "upstream.example"
    _, _, handled = fastmcp_call(lone_server, t0, "only-server")
    handled.parent_span_id = None
    post(http, server, {"agent": [outer, send, upstream], "tools-server-svc": [handled]})
    assemble(db)

    (client_row,) = calls(db, lone_client)
    assert client_row["side"] == "client" and client_row["counted"]
    assert client_row["server_span_id"] is None and client_row["server_duration_ms"] is None
    assert client_row["server_name"] == "upstream.example"
    (server_row,) = calls(db, lone_server)
    assert server_row["side"] == "server" and server_row["counted"] and server_row["client_name"] is None


def test_a_tool_that_calls_another_mcp_server(server, db, http):
    tid = trace_id()
    t0 = now_ns()
    outer, send, handled = fastmcp_call(tid, t0, "plan", server="planner")
    # Inside `plan`, the planner calls `lookup` on another server.
    inner = fastmcp_call(tid, t0 + 10 * MS, "lookup", server="directory", parent=handled.span_id, request_id="1")
    post(http, server, {"agent": [outer, send], "planner-svc": [handled, inner[0], inner[1]],
                        "directory-svc": [inner[2]]})
    assemble(db)
    requests = db.rows("SELECT target, server_name, client_name FROM observability.mcp_requests "
                       "WHERE trace_id = %s::uuid ORDER BY start_time", trace_uuid(tid))
    assert requests == [{"target": "plan", "server_name": "planner", "client_name": "agent"},
                        {"target": "lookup", "server_name": "directory", "client_name": "planner-svc"}]
    assert len(calls(db, tid)) == 4


def contextforge_call(tid, t0, *, upstream_traced: bool):
    """One tools/call through ContextForge 1.1 to an upstream server that fails, with the
    span names, nesting and attributes ContextForge sends (every status stays unset;
    the failure is `success=false` and `upstream.response.success=false`)."""
    http_in = SpanSpec(tid, span_id(), "POST /rpc", t0, t0 + 100 * MS, kind="server",
                       attributes={"http.request.method": "POST", "http.route": "/rpc"})
    invoke = SpanSpec(tid, span_id(), "tool.invoke", t0 + 2 * MS, t0 + 98 * MS, parent_span_id=http_in.span_id,
                      attributes={"tool.name": "upstream-add", "success": False, "duration.ms": 96.0})
    gateway_call = SpanSpec(tid, span_id(), "tool.gateway_call", t0 + 5 * MS, t0 + 95 * MS,
                            parent_span_id=invoke.span_id, attributes={})
    client_call = SpanSpec(tid, span_id(), "mcp.client.call", t0 + 6 * MS, t0 + 94 * MS,
                           parent_span_id=gateway_call.span_id,
                           attributes={"mcp.tool.name": "add", "url.full": "http://upstream:9000/mcp",
                                       "contextforge.transport": "streamablehttp"})
    init = SpanSpec(tid, span_id(), "mcp.client.initialize", t0 + 7 * MS, t0 + 20 * MS,
                    parent_span_id=client_call.span_id, attributes={})
    request = SpanSpec(tid, span_id(), "mcp.client.request", t0 + 21 * MS, t0 + 80 * MS,
                       parent_span_id=client_call.span_id, attributes={"mcp.tool.name": "add"})
    send = SpanSpec(tid, span_id(), "MCP send tools/call add", t0 + 22 * MS, t0 + 79 * MS, kind="client",
                    parent_span_id=request.span_id,
                    attributes={"mcp.method.name": "tools/call", "jsonrpc.request.id": "1"})
    response = SpanSpec(tid, span_id(), "mcp.client.response", t0 + 81 * MS, t0 + 90 * MS,
                        parent_span_id=client_call.span_id,
                        attributes={"mcp.tool.name": "add", "upstream.response.success": False})
    gateway = [http_in, invoke, gateway_call, client_call, init, request, send, response]
    upstream = []
    if upstream_traced:
        upstream = [SpanSpec(tid, span_id(), "tools/call add", t0 + 30 * MS, t0 + 70 * MS, kind="server",
                             parent_span_id=send.span_id, status="error", status_message="division by zero",
                             attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "add",
                                         "error.type": "ZeroDivisionError"})]
    return invoke, client_call, gateway, upstream


def test_contextforge_request_counts_once_and_its_failure_counts(server, db, http):
    tid = trace_id()
    invoke, client_call, gateway, _ = contextforge_call(tid, now_ns(), upstream_traced=False)
    post(http, server, {"mcp-context-forge": gateway})
    assemble(db)
    rows = calls(db, tid)
    tools = [r for r in rows if r["method"] == "tools/call"]
    # The caller's request to the gateway (server side, gateway tool name) and the
    # gateway's request to its upstream (client side, upstream tool name): five spans
    # classified tool_invoke, two requests, each failed.
    assert [(r["side"], r["target"], r["counted"], r["request_status"]) for r in tools] == [
        ("server", "upstream-add", True, "error"), ("client", "add", True, "error")]
    assert tools[0]["span_id"] == signed_span_id(invoke.span_id)
    assert tools[0]["server_name"] == "mcp-context-forge"
    assert tools[1]["span_id"] == signed_span_id(client_call.span_id)
    assert tools[1]["server_name"] == "upstream:9000" and tools[1]["client_name"] == "mcp-context-forge"
    assert tools[1]["transport"] == "streamablehttp"
    assert len(tools[1]["span_ids"]) == 4  # call, request, the SDK's send, response
    # The upstream session set-up is a request of its own.
    assert [r["method"] for r in rows if r["method"] != "tools/call"] == ["initialize"]

    refresh_metrics(db)
    figures = {(r["server_name"], r["tool_name"]): (r["request_count"], r["error_count"]) for r in db.rows(
        "SELECT * FROM observability.tool_metrics WHERE time_window = '1h' AND tool_name IN ('upstream-add', 'add') "
        "AND server_name IN ('mcp-context-forge', 'upstream:9000')")}
    assert figures == {("mcp-context-forge", "upstream-add"): (1, 1), ("upstream:9000", "add"): (1, 1)}


def test_gateway_is_server_to_its_caller_and_client_to_its_upstream(server, db, http):
    tid = trace_id()
    t0 = now_ns()
    invoke, client_call, gateway, upstream = contextforge_call(tid, t0 + 5 * MS, upstream_traced=True)
    outer, send, _ = fastmcp_call(tid, t0, "upstream-add")
    gateway[0].parent_span_id = send.span_id  # the caller's trace context reached POST /rpc
    post(http, server, {"agent": [outer, send], "mcp-context-forge": gateway, "upstream": upstream})
    assemble(db)
    requests = db.rows("SELECT method, target, server_name, client_name, status, client_span_id, server_span_id "
                       "FROM observability.mcp_requests WHERE trace_id = %s::uuid AND method = 'tools/call' "
                       "ORDER BY start_time", trace_uuid(tid))
    assert requests == [
        {"method": "tools/call", "target": "upstream-add", "server_name": "mcp-context-forge", "client_name": "agent",
         "status": "error", "client_span_id": signed_span_id(outer.span_id),
         "server_span_id": signed_span_id(invoke.span_id)},
        {"method": "tools/call", "target": "add", "server_name": "upstream", "client_name": "mcp-context-forge",
         "status": "error", "client_span_id": signed_span_id(client_call.span_id),
         "server_span_id": signed_span_id(upstream[0].span_id)},
    ]


def test_the_services_own_traces_stay_out_of_metrics_and_the_trace_list(server, db, http):
    """Reading the API leaves self traces (HTTP requests are traced by default); they are
    not listed unless asked for, and no metric counts them."""
    route = "GET /api/v1/traces"
    deadline = time.monotonic() + 20
    while not db.scalar("SELECT count(*) FROM observability.spans WHERE service_name = 'mcp-observatory' "
                        "AND target = %s", route):
        assert http.get(server.base_url + "/api/v1/traces?window=1h", timeout=10).status_code == 200
        assert time.monotonic() < deadline, "no self span of the API request was stored"
        time.sleep(0.2)
    refresh_metrics(db)

    listed = http.get(server.base_url + "/api/v1/traces?window=1h&limit=100", timeout=10).json()["traces"]
    assert listed and all(t["service_name"] != "mcp-observatory" for t in listed)
    asked = http.get(server.base_url + "/api/v1/traces?window=1h&limit=100&service=mcp-observatory",
                     timeout=10).json()["traces"]
    assert asked and all(t["service_name"] == "mcp-observatory" for t in asked)
    assert db.scalar("SELECT count(*) FROM observability.metrics_1h WHERE target = %s", route) == 0
    # Ingestion itself leaves no self trace by default (OBSERVABILITY_TRACE_INGEST_REQUESTS).
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE service_name = 'mcp-observatory' "
                     "AND target LIKE 'POST /v1/traces%%'") == 0


def test_session_page_and_trace_page_show_the_calls(server, db, http):
    """A session's requests in order on its page and in its JSON twin; the trace page
    lists each call with the spans that form it and links to the session."""
    session = f"sess-<b>{trace_id().hex()[:8]}"  # hostile characters stay text
    first, second = trace_id(), trace_id()
    t0 = now_ns()
    a = fastmcp_call(first, t0, "add", session=session, request_id="1")
    b = fastmcp_call(second, t0 + 100 * MS, "explode", session=session, request_id="2", failed=True)
    post(http, server, {"agent": [*a[:2], *b[:2]], "tools-server-svc": [a[2], b[2]]})
    assemble(db)

    quoted = requests_quote(session)
    answer = http.get(f"{server.base_url}/api/v1/sessions/{quoted}", timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["session_id"] == session and body["truncated"] is False
    assert [(c["target"], c["side"], c["request_status"], c["trace_id"]) for c in body["calls"]] == [
        ("add", "server", "ok", first.hex()), ("explode", "server", "error", second.hex())]
    assert body["calls"][0]["client_duration_ms"] == 50 and body["calls"][0]["server_duration_ms"] == 30

    page = http.get(f"{server.base_url}/admin/observability/sessions/{quoted}", timeout=10)
    assert page.status_code == 200
    assert page.text.count('class="call-row counted"') == 2
    assert "sess-&lt;b&gt;" in page.text and "sess-<b>" not in page.text

    trace_json = http.get(f"{server.base_url}/api/v1/traces/{first.hex()}", timeout=10).json()
    assert [(c["side"], len(c["span_ids"])) for c in trace_json["calls"]] == [("client", 2), ("server", 1)]
    assert trace_json["calls"][0]["span_ids"] == [a[0].span_id.hex(), a[1].span_id.hex()]
    trace_page = http.get(f"{server.base_url}/admin/observability/traces/{first.hex()}", timeout=10).text
    assert f'href="/admin/observability/traces/{first.hex()}#span-{a[1].span_id.hex()}"' in trace_page
    assert f'href="/admin/observability/sessions/{quoted}"' in trace_page
    # Each span of a call is marked in the span table, linked to the call's row.
    marks = {span.span_id.hex(): span_row(trace_page, span.span_id.hex()) for span in a}
    assert 'id="call-1"' in trace_page and 'id="call-2"' in trace_page
    assert ('href="#call-1"' in marks[a[0].span_id.hex()] and "call 1 · client" in marks[a[0].span_id.hex()])
    assert ('href="#call-1"' in marks[a[1].span_id.hex()] and "call 1 · client" in marks[a[1].span_id.hex()])
    assert ('href="#call-2"' in marks[a[2].span_id.hex()] and "call 2 · server" in marks[a[2].span_id.hex()])


def span_row(page: str, span_id: str) -> str:
    """The first row of one span in the trace page's span table, as HTML."""
    start = page.index(f'<tr id="span-{span_id}"')
    return page[start:page.index("</tr>", start)]


def test_a_tool_rows_traces_are_the_requests_it_counted(server, db, http):
    """Two servers with a tool of the same name are two rows of the tools page; each
    row leads to the trace list of its own server's requests (`server=`), which the JSON
    twin answers too."""
    uniq = trace_id().hex()[:8]
    tool, alpha, beta = f"lookup-{uniq}", f"alpha-{uniq}", f"beta-{uniq}"
    t0 = now_ns() - 2_000 * MS  # all five before the refresh, which counts up to now
    sent: dict[str, list[bytes]] = {alpha: [], beta: []}
    spans: dict[str, list[SpanSpec]] = {"agent": []}
    for number, name in enumerate([alpha, alpha, alpha, beta, beta]):
        tid = trace_id()
        outer, send, handled = fastmcp_call(tid, t0 + number * 100 * MS, tool, server=name)
        spans["agent"] += [outer, send]
        spans.setdefault(f"{name}-svc", []).append(handled)
        sent[name].append(tid)
    post(http, server, spans)
    refresh_metrics(db)

    rows = http.get(server.base_url + "/api/v1/metrics/tools", params={"window": "1h", "limit": 100},
                    timeout=10).json()["rows"]
    assert sorted((r["server"], r["request_count"]) for r in rows if r["target"] == tool) == [(alpha, 3), (beta, 2)]
    page = http.get(server.base_url + "/admin/observability/tools", params={"window": "1h", "limit": 100},
                    timeout=10).text
    for name, tids in sent.items():
        href = f"/admin/observability/traces?window=1h&amp;operation=tool_invoke&amp;target={tool}&amp;server={name}"
        assert href in page, name
        listed = http.get(server.base_url + "/api/v1/traces", timeout=10, params={
            "window": "1h", "operation": "tool_invoke", "target": tool, "server": name, "limit": 100}).json()
        assert listed["server"] == name
        assert sorted(t["trace_id"] for t in listed["traces"]) == sorted(t.hex() for t in tids), name
        # The server alone: the traces with a request counted at it, whatever the target.
        alone = http.get(server.base_url + "/api/v1/traces", params={"window": "1h", "server": name, "limit": 100},
                         timeout=10).json()["traces"]
        assert sorted(t["trace_id"] for t in alone) == sorted(t.hex() for t in tids), name
    both = http.get(server.base_url + "/api/v1/traces", timeout=10, params={
        "window": "1h", "operation": "tool_invoke", "target": tool, "limit": 100}).json()["traces"]
    assert len(both) == 5
    # A server has MCP requests only: with an HTTP operation, or a server nobody has, nothing.
    for params in ({"operation": "http_request", "server": alpha}, {"server": f"nobody-{uniq}"}):
        assert http.get(server.base_url + "/api/v1/traces", params={"window": "1h", **params},
                        timeout=10).json()["traces"] == [], params
    listing = http.get(server.base_url + "/admin/observability/traces", timeout=10, params={
        "window": "1h", "operation": "tool_invoke", "target": tool, "server": alpha}).text
    assert f'name="server" value="{alpha}"' in listing and f"server {alpha}" in listing


def requests_quote(text: str) -> str:
    from urllib.parse import quote
    return quote(text, safe="")


def test_calls_are_assembled_with_metrics_turned_off(make_database, start_server, http):
    """Trace pages and session pages read calls whether or not metrics are kept: with
    OBSERVABILITY_METRICS_ENABLED=false the service still assembles them, on its own."""
    fresh = make_database()
    quiet = start_server(fresh, OBSERVABILITY_METRICS_ENABLED="false", OBSERVABILITY_METRICS_REFRESH_SECONDS="5",
                         OBSERVABILITY_CALL_SETTLE_SECONDS="0")
    tid = trace_id()
    outer, send, handled = fastmcp_call(tid, now_ns(), "add")
    post(http, quiet, {"agent": [outer, send], "tools-server-svc": [handled]})
    deadline = time.monotonic() + 20
    while len(calls(fresh, tid)) < 2:
        assert time.monotonic() < deadline, "the service never assembled the calls"
        time.sleep(0.2)
    assert [r["side"] for r in calls(fresh, tid)] == ["client", "server"]

"""One trace from several requests and services becomes one correct `traces` row;
a retried export stores each span once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from payloads import SpanSpec, export_bytes, now_ns, post_protobuf, signed_span_id, span_id, trace_id, trace_uuid

MS = 1_000_000


def stored_span_ids(db, tid: bytes) -> list[int]:
    return sorted(r["span_id"] for r in db.rows(
        "SELECT span_id FROM observability.spans WHERE trace_id = %s::uuid", trace_uuid(tid)))


def trace_row(db, tid: bytes) -> dict | None:
    return db.one(
        "SELECT *, (extract(epoch FROM start_time) * 1e6)::bigint AS start_us, "
        "(extract(epoch FROM end_time) * 1e6)::bigint AS end_us "
        "FROM observability.traces WHERE trace_id = %s::uuid", trace_uuid(tid))


def test_trace_split_across_requests_and_services_children_first(server, db, http):
    tid = trace_id()
    t0 = (now_ns() // 1000) * 1000  # whole microseconds: what timestamptz keeps
    root = SpanSpec(tid, span_id(), "POST /mcp", t0, t0 + 100 * MS, kind="server",
                    attributes={"http.request.method": "POST", "http.route": "/mcp"})
    tool = SpanSpec(tid, span_id(), "tools/call search", t0 + 10 * MS, t0 + 90 * MS, parent_span_id=root.span_id,
                    attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "search"})
    # The backend's clock runs a little behind: its first span starts before the root.
    backend = SpanSpec(tid, span_id(), "GET /search", t0 - 5 * MS, t0 + 60 * MS, parent_span_id=tool.span_id,
                       kind="server", status="error", status_message="index offline",
                       attributes={"http.request.method": "GET", "http.route": "/search"})
    query = SpanSpec(tid, span_id(), "SELECT docs", t0 + 20 * MS, t0 + 130 * MS, parent_span_id=backend.span_id,
                     kind="client", attributes={"db.system.name": "postgresql", "db.query.text": "SELECT 1"})
    retry = SpanSpec(tid, span_id(), "tools/call search", t0 + 95 * MS, t0 + 99 * MS, parent_span_id=root.span_id,
                     attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "search",
                                 "mcp.tool.is_error": True})

    # Deepest spans first, from the backend; the root last.
    first = post_protobuf(http, server.traces_url, export_bytes({"search-backend": [query, backend]}))
    assert first.status_code == 200, first.content
    early = trace_row(db, tid)
    assert early is not None and early["root_span_id"] is None and early["span_count"] == 2

    second = post_protobuf(http, server.traces_url, export_bytes({"gateway": [tool, retry]}))
    assert second.status_code == 200, second.content
    third = post_protobuf(http, server.traces_url, export_bytes({"gateway": [root]}))
    assert third.status_code == 200, third.content

    assert stored_span_ids(db, tid) == sorted(signed_span_id(s.span_id) for s in (root, tool, backend, query, retry))
    row = trace_row(db, tid)
    assert row["root_span_id"] == signed_span_id(root.span_id)
    assert row["root_name"] == "POST /mcp"
    assert row["service_name"] == "gateway"
    assert row["start_us"] == (t0 - 5 * MS) // 1000
    assert row["end_us"] == (t0 + 130 * MS) // 1000
    assert abs(row["duration_ms"] - 135.0) < 1e-6
    assert row["span_count"] == 5
    assert row["error_count"] == 2
    assert row["status"] == "error"
    services = db.rows("SELECT service_name, count(*) AS n FROM observability.spans WHERE trace_id = %s::uuid "
                       "GROUP BY 1 ORDER BY 1", trace_uuid(tid))
    assert [(s["service_name"], s["n"]) for s in services] == [("gateway", 3), ("search-backend", 2)]


def test_trace_assembled_from_concurrent_requests(server, db):
    """Twenty requests at once, one span of the same trace each: the upserts must not
    lose a count to a race."""
    tid = trace_id()
    t0 = now_ns()
    root = SpanSpec(tid, span_id(), "batch", t0, t0 + 500 * MS, kind="server")
    children = [SpanSpec(tid, span_id(), f"item {i}", t0 + i * MS, t0 + (i + 1) * MS, parent_span_id=root.span_id,
                         status="error" if i % 4 == 0 else "ok")
                for i in range(1, 20)]

    def send(spec):
        with requests.Session() as session:
            return post_protobuf(session, server.traces_url, export_bytes({f"worker-{spec.name}": [spec]})).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(send, [root, *children]))
    assert statuses == [200] * 20
    row = trace_row(db, tid)
    assert row["span_count"] == 20
    assert row["error_count"] == sum(1 for c in children if c.status == "error")
    assert row["root_name"] == "batch"
    assert row["service_name"] == "worker-batch"
    assert len(stored_span_ids(db, tid)) == 20


def test_retried_export_is_stored_once(server, db, http):
    tid = trace_id()
    t0 = now_ns()
    root = SpanSpec(tid, span_id(), "GET /items", t0, t0 + 30 * MS, kind="server")
    children = [SpanSpec(tid, span_id(), f"step {i}", t0 + i * MS, t0 + (i + 1) * MS, parent_span_id=root.span_id,
                         status="error" if i == 2 else "unset")
                for i in range(1, 4)]
    body = export_bytes({"shop": [root, *children]})

    for attempt in range(2):  # the client never saw the first answer and sends again
        response = post_protobuf(http, server.traces_url, body)
        assert response.status_code == 200, (attempt, response.content)
    assert stored_span_ids(db, tid) == sorted(signed_span_id(s.span_id) for s in (root, *children))
    row = trace_row(db, tid)
    assert (row["span_count"], row["error_count"]) == (4, 1)

    # A retry that carries the old spans plus new ones: the new ones go in, the old ones once.
    late = SpanSpec(tid, span_id(), "step 4", t0 + 4 * MS, t0 + 40 * MS, parent_span_id=root.span_id, status="error")
    response = post_protobuf(http, server.traces_url, export_bytes({"shop": [root, *children, late]}))
    assert response.status_code == 200, response.content
    assert stored_span_ids(db, tid) == sorted(signed_span_id(s.span_id) for s in (root, *children, late))
    row = trace_row(db, tid)
    assert (row["span_count"], row["error_count"]) == (5, 2)
    assert row["end_time"] > row["start_time"]
    assert abs(row["duration_ms"] - 40.0) < 0.01

"""Self-tracing on a live server: `serve` stores spans of its own work in its own store,
under service.name mcp-observatory. An HTTP server span per request with the request's
DB client spans under it, root spans for maintenance runs, errors with exception
events, no secrets, W3C traceparent continued; and the settings that govern it
(OBSERVABILITY_ENABLED, _TRACE_HTTP_REQUESTS, _SAMPLE_RATE, _EXCLUDE_PATHS,
_EVENTS_ENABLED) plus OBSERVABILITY_METRICS_ENABLED for the maintenance it drives.

Self-spans are flushed every 250 ms, so presence is polled for with a deadline; absence
is checked after a positive control of the same flush order appeared, or after a
graceful stop, which flushes everything buffered.
"""

from __future__ import annotations

import http.client
import random
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest

from harness import run_observatory, clean_environment
from payloads import SpanSpec, export_bytes, now_ns, post_protobuf, signed_span_id, span_id, trace_id, trace_uuid
from selfspans import (MAINTENANCE_JOBS, SELF_SERVICE, children, count_self_spans, db_spans_of, fetch, http_span,
                       maintenance_log, self_spans, server_owner, user_agent, wait_for, wait_http_span)

TOOLS_PAGE = "/admin/observability/tools?window=24h"
TOOLS_API = "/api/v1/metrics/tools?window=24h"
METRICS_24H = "observability.metrics_24h"


@contextmanager
def metrics_24h_missing(db):
    """Dashboard reads of the 24-hour view fail (42P01) while inside."""
    db.execute("ALTER MATERIALIZED VIEW observability.metrics_24h RENAME TO metrics_24h_moved")
    try:
        yield
    finally:
        db.execute("ALTER MATERIALIZED VIEW observability.metrics_24h_moved RENAME TO metrics_24h")


def failing_request(db, server, path: str):
    """`path` answered while its view is missing: (answer, HTTP span, failed DB spans)."""
    agent = user_agent()
    with metrics_24h_missing(db):
        answer = fetch(server, path, {"User-Agent": agent})
    span = wait_http_span(db, agent)
    failed = wait_for(lambda: [c for c in children(db, span) if c["status"] == "error"],
                      f"a failed DB span under {path}")
    return answer, span, failed


# MARK: What a request leaves


def test_dashboard_request_is_an_http_span_over_its_db_queries(db, server):
    agent = user_agent()
    answer = fetch(server, TOOLS_PAGE, {"User-Agent": agent})
    assert answer.status == 200
    span = wait_http_span(db, agent)

    assert (span["name"], span["kind"], span["operation"], span["target"]) == (
        "/admin/observability/tools", "server", "http_request", "GET /admin/observability/tools")
    assert span["status"] != "error" and span["parent_span_id"] is None
    assert span["attributes"] == {
        "http.request.method": "GET",
        "url.path": "/admin/observability/tools",
        "url.query": "window=24h",
        "http.route": "/admin/observability/tools",
        "http.response.status_code": 200,
        "client.address": "127.0.0.1",
        "client.port": answer.client_port,
        "user_agent.original": agent,
        "http.response.body.size": len(answer.body),
    }
    version = run_observatory("--version", env=clean_environment()).stdout.strip()
    resource = span["resource_attributes"]
    assert (resource["service.name"], resource["service.version"], resource["service.instance.id"]) == (
        SELF_SERVICE, version, server_owner(server))

    queries = children(db, span)
    assert queries, "the page read the database; its queries must be spans under the request"
    for query in queries:
        assert (query["trace_id"], query["kind"], query["operation"], query["target"]) == (
            span["trace_id"], "client", "db_query", "SELECT")
        assert span["start_time"] <= query["start_time"] <= query["end_time"] <= span["end_time"]
        a = query["attributes"]
        assert (a["db.system.name"], a["db.operation.name"]) == ("postgresql", "SELECT")
        assert query["name"] in (f"SELECT {a.get('db.collection.name')}",
                                 f"SELECT {a.get('db.stored_procedure.name')}()")
        assert isinstance(a["db.response.returned_rows"], int) and a["db.response.returned_rows"] >= 0
        assert "observatory.slow_query" not in a
        assert "'" not in a["db.query.text"], "literals must be replaced by ?"
    reads = [q for q in queries if q["attributes"].get("db.collection.name") == METRICS_24H]
    assert reads and all(q["name"] == "SELECT observability.metrics_24h" for q in reads)
    # MetricsStore says `WHERE level = 'target'`: stored with the literal stripped.
    assert any("WHERE level = ? AND" in q["attributes"]["db.query.text"] for q in reads), reads


def post_trace(http, server, spans: int = 4) -> bytes:
    """A trace of `spans` spans from a client, stored; returns its id."""
    t0 = now_ns()
    tid = trace_id()
    root = SpanSpec(tid, span_id(), "POST /mcp", t0, t0 + 10_000_000, kind="server")
    rest = [SpanSpec(tid, span_id(), f"step {i}", t0 + i * 1_000_000, t0 + (i + 1) * 1_000_000,
                     parent_span_id=root.span_id) for i in range(1, spans)]
    assert post_protobuf(http, server.traces_url, export_bytes({"gateway": [root, *rest]})).status_code == 200
    return tid


def test_db_spans_count_the_rows_a_trace_page_read(db, server, http):
    tid = post_trace(http, server, spans=4)
    agent = user_agent()
    answer = fetch(server, f"/api/v1/traces/{tid.hex()}", {"User-Agent": agent})
    assert answer.status == 200, answer.body
    span = wait_http_span(db, agent)
    assert span["attributes"]["http.route"] == "/api/v1/traces/{id}"
    summary, *reads = children(db, span)
    # The trace's row first; then, side by side in any order, its spans, its MCP calls
    # (none: these spans are no MCP request) and its spans' percentile ranks (none:
    # nothing is rolled up yet), each bounded by that row's times.
    assert "FROM observability.traces" in summary["attributes"]["db.query.text"]
    assert summary["attributes"]["db.response.returned_rows"] == 1
    assert all(q["start_time"] >= summary["end_time"] for q in reads), (summary, reads)
    rows = {q["name"]: q["attributes"]["db.response.returned_rows"] for q in reads}
    assert rows == {"SELECT observability.spans": 4, "SELECT observability.calls": 0,
                    "SELECT observability.span_ranks()": 0}, reads


def test_db_span_names_the_relation_read_not_a_function(db, server, http):
    tid = post_trace(http, server, spans=2)
    agent = user_agent()
    assert fetch(server, f"/api/v1/traces/{tid.hex()}", {"User-Agent": agent}).status == 200
    queries = children(db, wait_http_span(db, agent))
    assert sorted((q["name"], q["attributes"].get("db.collection.name")) for q in queries) == [
        ("SELECT observability.calls", "observability.calls"),
        # Ranks are read from a function, which the summary names as one (no collection).
        ("SELECT observability.span_ranks()", None),
        ("SELECT observability.spans", "observability.spans"), ("SELECT observability.traces", "observability.traces")]


def test_client_errors_are_not_server_errors(db, server):
    agent = user_agent()
    answer = fetch(server, "/api/v1/traces/not-a-trace-id", {"User-Agent": agent})
    assert answer.status == 400
    span = wait_http_span(db, agent)
    assert span["attributes"]["http.response.status_code"] == 400
    assert span["status"] != "error"


def test_a_404_leaves_neither_its_span_nor_its_db_spans(db, server):
    """Answers 401 and 404 are not stored (anyone can send them by the thousand); the
    request's DB queries go with it (test_hardening_web.py checks none is left orphaned)."""
    agent = user_agent()
    assert fetch(server, f"/api/v1/traces/{trace_id().hex()}", {"User-Agent": agent}).status == 404
    control = user_agent()
    assert fetch(server, "/readyz", {"User-Agent": control}).status == 200
    wait_http_span(db, control)  # flushed after everything sent before it
    assert http_span(db, agent) is None


def test_a_query_over_one_second_is_flagged_slow(db, server, http):
    """A lock held on observability.traces for 1.3 s makes the trace page's first read wait."""
    tid = post_trace(http, server, spans=2)
    agent = user_agent()
    holder = psycopg.connect(db.url)
    try:
        holder.execute("LOCK TABLE observability.traces IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(fetch, server, f"/api/v1/traces/{tid.hex()}", {"User-Agent": agent})
            wait_for(lambda: db.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND query LIKE %s", "%FROM observability.traces t%"),
                     "the page's query waiting for the lock")
            time.sleep(1.3)  # the point of the test: hold the lock past the 1 s threshold
            holder.rollback()
            answer = pending.result(timeout=30)
    finally:
        holder.close()
    assert answer.status == 200
    queries = children(db, wait_http_span(db, agent))
    assert len(queries) == 4, queries  # the trace's row, then its spans, its calls, its ranks
    summary = queries[0]
    spans = next(q for q in queries if q["name"] == "SELECT observability.spans")
    assert summary["attributes"].get("observatory.slow_query") is True and summary["duration_ms"] >= 1000, summary
    assert "observatory.slow_query" not in spans["attributes"] and spans["duration_ms"] < 1000, spans


def test_incoming_traceparent_is_continued(db, server):
    caller_trace, caller_span = trace_id(), span_id()
    agent = user_agent()
    header = f"00-{caller_trace.hex()}-{caller_span.hex()}-01"
    assert fetch(server, TOOLS_PAGE, {"User-Agent": agent, "traceparent": header}).status == 200
    span = wait_http_span(db, agent)
    assert span["trace_id"] == trace_uuid(caller_trace)
    assert span["parent_span_id"] == signed_span_id(caller_span)
    assert children(db, span) and {c["trace_id"] for c in children(db, span)} == {span["trace_id"]}

    # A malformed header starts a trace of its own.
    agent = user_agent()
    assert fetch(server, TOOLS_PAGE, {"User-Agent": agent, "traceparent": "00-xyz-abc-01"}).status == 200
    fresh = wait_http_span(db, agent)
    assert fresh["parent_span_id"] is None and fresh["trace_id"] != span["trace_id"]


# MARK: Errors


@pytest.mark.parametrize("path", [TOOLS_PAGE, TOOLS_API])
def test_a_failed_query_fails_its_db_span_and_the_request(db, server, path):
    answer, span, failed = failing_request(db, server, path)
    assert answer.status == 500
    assert span["status"] == "error"
    assert span["attributes"]["http.response.status_code"] == 500
    assert failed and all(f["parent_span_id"] == span["span_id"] for f in failed)
    query = failed[0]
    assert query["attributes"]["db.collection.name"] == METRICS_24H
    assert "db.response.returned_rows" not in query["attributes"]
    exceptions = [e for e in query["events"] if e["name"] == "exception"]
    assert len(exceptions) == 1, query["events"]
    assert exceptions[0]["attributes"]["exception.type"]
    assert exceptions[0]["attributes"]["exception.message"]


def test_the_failed_db_span_says_what_failed(db, server):
    """The server's SQLSTATE and message, in the status and the exception event: these
    spans are read by the service's operators, and PSQLError's own text is generic."""
    _, _, failed = failing_request(db, server, TOOLS_API)
    event = failed[0]["events"][0]["attributes"]
    for text in (failed[0]["status_message"], event["exception.message"]):
        assert "42P01" in text and 'relation "observability.metrics_24h" does not exist' in text, text


def test_events_enabled_false_stores_error_spans_without_events(db, server, make_database, start_server):
    _, _, on_failed = failing_request(db, server, TOOLS_PAGE)
    assert [e["name"] for e in on_failed[0]["events"]] == ["exception"]

    off_db = make_database()
    off = start_server(off_db, OBSERVABILITY_EVENTS_ENABLED="false")
    answer, off_span, off_failed = failing_request(off_db, off, TOOLS_PAGE)
    assert answer.status == 500
    assert (off_span["status"], off_span["events"]) == ("error", [])
    assert [(f["status"], f["events"]) for f in off_failed] == [("error", [])]
    assert off_db.scalar("SELECT count(*) FROM observability.span_events") == 0


# MARK: Maintenance


def test_maintenance_runs_are_root_spans_over_their_queries(db, server):
    """Every job runs once when serve starts."""
    def runs():
        found = {s["name"]: s for s in self_spans(db, "name LIKE 'maintenance %%'")}
        return found if set(found) >= {f"maintenance {job}" for job in MAINTENANCE_JOBS} else None

    found = wait_for(runs, "a span for each maintenance job")
    for job in MAINTENANCE_JOBS:
        span = found[f"maintenance {job}"]
        assert (span["kind"], span["parent_span_id"], span["status"]) == ("internal", None, "unset"), span
        assert span["attributes"] == {"observatory.maintenance.job": job, "observatory.maintenance.outcome": "ok"}
        queries = children(db, span)
        assert queries and all(q["kind"] == "client" and q["operation"] == "db_query" for q in queries), job
        assert all(span["start_time"] <= q["start_time"] <= q["end_time"] <= span["end_time"] for q in queries)
    called = {job: {q["attributes"].get("db.stored_procedure.name") for q in children(db, found[f"maintenance {job}"])}
              for job in MAINTENANCE_JOBS}
    assert "observability.ensure_partitions" in called["partitions"], called
    assert "observability_internal.enforce_retention" in called["retention"], called
    assert "observability_internal.log_maintenance_run" in called["retention"], called
    assert "observability_internal.rollup_metrics" in called["rollup"], called
    assert all("observability.refresh_metrics" in called[job] for job in MAINTENANCE_JOBS if job.startswith("refresh"))


# MARK: Secrets


def test_secrets_of_a_request_are_not_stored(db, server):
    secrets_sent = ["s3cr3t-token-value", "c00kie-value", "k3y-value", "qu3ry-token", "pa55word"]
    agent = user_agent()
    answer = fetch(server, "/admin/observability/tools?window=24h&token=qu3ry-token&password=pa55word", {
        "User-Agent": agent, "Authorization": "Bearer s3cr3t-token-value", "Cookie": "session=c00kie-value",
        "X-Api-Key": "k3y-value"})
    assert answer.status == 200
    span = wait_http_span(db, agent)
    assert span["attributes"]["url.query"] == "window=24h&token=[REDACTED]&password=[REDACTED]"
    assert children(db, span)
    for secret in secrets_sent:
        for table in ("spans", "traces"):
            found = db.scalar(f"SELECT count(*) FROM observability.{table} r WHERE r::text LIKE %s", f"%{secret}%")
            assert found == 0, (table, secret)


# MARK: Settings


def test_default_excluded_paths_leave_no_span(db, server):
    """Default OBSERVABILITY_EXCLUDE_PATHS covers /healthz, /metrics and /static/.*."""
    excluded = {"/healthz": 200, "/metrics": 200, "/static/observatory/style.css": 200, "/static/nothing.js": 404}
    agents = {}
    for path, status in excluded.items():
        agents[path] = user_agent()
        assert fetch(server, path, {"User-Agent": agents[path]}).status == status, path
    control = user_agent()
    assert fetch(server, "/readyz", {"User-Agent": control}).status == 200
    wait_http_span(db, control)  # flushed after everything sent before it

    assert count_self_spans(db, "attributes->>'user_agent.original' = ANY(%s)", list(agents.values())) == 0
    assert count_self_spans(db, "attributes->>'url.path' = ANY(%s)", list(excluded)) == 0


def test_custom_excluded_paths_leave_neither_http_nor_db_spans(make_database, start_server):
    db = make_database()
    server = start_server(db, OBSERVABILITY_EXCLUDE_PATHS="/admin/.*")
    page_agent, api_agent = user_agent(), user_agent()
    assert fetch(server, TOOLS_PAGE, {"User-Agent": page_agent}).status == 200
    assert fetch(server, TOOLS_API, {"User-Agent": api_agent}).status == 200
    api = wait_http_span(db, api_agent)
    assert server.stop() == 0  # flushes whatever is buffered

    assert count_self_spans(db, "attributes->>'url.path' LIKE '/admin/%%'") == 0
    reads = db_spans_of(db, METRICS_24H)
    assert reads, "the API request's reads must be traced"
    assert {(r["trace_id"], r["parent_span_id"]) for r in reads} == {(api["trace_id"], api["span_id"])}
    # The custom list replaces the default one: the harness's /healthz polls are traced now.
    assert count_self_spans(db, "kind = 'server' AND attributes->>'url.path' = '/healthz'") > 0


def test_self_tracing_disabled_records_nothing(make_database, start_server):
    """The same requests and maintenance runs against OBSERVABILITY_ENABLED=true and =false."""
    paths = [TOOLS_PAGE, TOOLS_API, "/admin/observability/traces", "/readyz"]
    results = {}
    for enabled in ("true", "false"):
        db = make_database()
        server = start_server(db, OBSERVABILITY_ENABLED=enabled)
        agents = [user_agent() for _ in paths]
        for path, agent in zip(paths, agents):
            assert fetch(server, path, {"User-Agent": agent}).status == 200, path
        wait_for(lambda: {r["job"] for r in maintenance_log(db)} >= set(MAINTENANCE_JOBS),
                 "a run of every maintenance job")
        assert server.stop() == 0  # flushes whatever is buffered
        results[enabled] = (db, agents)

    on_db, on_agents = results["true"]
    assert all(http_span(on_db, agent) for agent in on_agents)
    assert count_self_spans(on_db, "kind = 'client'") > 0
    assert {s["name"] for s in self_spans(on_db, "name LIKE 'maintenance %%'")} >= {
        f"maintenance {job}" for job in MAINTENANCE_JOBS}

    off_db, _ = results["false"]
    assert off_db.scalar("SELECT count(*) FROM observability.spans") == 0
    assert off_db.scalar("SELECT count(*) FROM observability.traces") == 0


def test_http_spans_off_keeps_db_spans_as_roots(make_database, start_server):
    db = make_database()
    server = start_server(db, OBSERVABILITY_TRACE_HTTP_REQUESTS="false")
    assert fetch(server, TOOLS_PAGE, {"User-Agent": user_agent()}).status == 200
    wait_for(lambda: db_spans_of(db, METRICS_24H), "the page's DB spans")
    assert server.stop() == 0

    assert count_self_spans(db, "kind = 'server'") == 0
    reads = db_spans_of(db, METRICS_24H)
    assert reads and all(r["parent_span_id"] is None for r in reads), reads
    assert len({r["trace_id"] for r in reads}) == len(reads), "each root DB span is a trace of its own"


def test_sample_rate_keeps_about_half_of_the_requests(make_database, start_server):
    """10,000 GET /healthz (not excluded here) at OBSERVABILITY_SAMPLE_RATE=0.5: 5,000 ± 3 %.

    Each request continues a caller's trace whose id comes from a seeded generator, so the
    decision (a function of the trace id) is the same on every run and the count cannot
    drift out of bounds by chance; the same ids sent again are kept or dropped alike."""
    db = make_database()
    server = start_server(db, OBSERVABILITY_SAMPLE_RATE="0.5", OBSERVABILITY_EXCLUDE_PATHS="/nothing")
    agent = user_agent()
    ids = random.Random(20261126)
    trace_ids = [f"{ids.getrandbits(128):032x}" for _ in range(10_000)]

    def burst(chunk: list[str], agent: str) -> None:
        # http.client on one keep-alive connection: requests.Session costs ~4 ms a request here.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            for trace in chunk:
                parent = f"{ids.getrandbits(64) or 1:016x}"
                connection.request("GET", "/healthz", headers={
                    "User-Agent": agent, "traceparent": f"00-{trace}-{parent}-01"})
                response = connection.getresponse()
                response.read()
                assert response.status == 200
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(burst, trace_ids[half::2], agent) for half in range(2)]:
            done.result()
    again = user_agent()
    burst(trace_ids[:1_000], again)
    assert server.stop() == 0  # SIGTERM flushes every buffered self-span

    kept = db.rows("SELECT replace(trace_id::text, '-', '') AS t FROM observability.spans "
                   "WHERE service_name = 'mcp-observatory' AND kind = 'server' "
                   "AND attributes->>'user_agent.original' = %s", agent)
    assert abs(len(kept) - 5_000) <= 150, len(kept)
    assert {r["t"] for r in kept} <= set(trace_ids)
    kept_again = db.rows("SELECT replace(trace_id::text, '-', '') AS t FROM observability.spans "
                         "WHERE service_name = 'mcp-observatory' AND kind = 'server' "
                         "AND attributes->>'user_agent.original' = %s", again)
    assert {r["t"] for r in kept_again} == {r["t"] for r in kept} & set(trace_ids[:1_000])
    assert count_self_spans(db, "attributes->>'url.path' = '/healthz' AND attributes->>'user_agent.original' = %s "
                                "AND parent_span_id IS NULL", agent) == 0, "every span continues its caller"


def test_metrics_disabled_stops_rollup_and_refresh(make_database, start_server):
    """OBSERVABILITY_METRICS_ENABLED=false against =true with a 5-second refresh interval."""
    off_db, on_db = make_database(), make_database()
    windows = "SELECT time_window, last_refreshed_at FROM observability.metric_windows ORDER BY 1"
    off_before = off_db.rows(windows)
    off = start_server(off_db, OBSERVABILITY_METRICS_ENABLED="false")
    on = start_server(on_db, OBSERVABILITY_METRICS_REFRESH_SECONDS="5")

    refreshes = [f"refresh_{w}" for w in ("1h", "24h", "7d", "30d")]
    wait_for(lambda: {r["job"] for r in maintenance_log(on_db)} >= set(refreshes), "every window refreshed", 10)
    assert all(r["last_refreshed_at"] is not None for r in on_db.rows(windows))

    def rollup_starts():
        starts = [r["started_at"] for r in maintenance_log(on_db, "rollup")]
        return starts if len(starts) >= 2 else None

    rollups = wait_for(rollup_starts, "a second rollup 5 s after the first", 12)
    assert (rollups[1] - rollups[0]).total_seconds() >= 4.5  # the 5 s interval, not the 1.25 s poll

    wait_for(lambda: {r["job"] for r in maintenance_log(off_db)} >= {"partitions", "retention"},
             "the cleanup jobs of the server with metrics off")
    assert off.is_alive() and off.stop() == 0
    assert on.stop() == 0
    assert [r["job"] for r in maintenance_log(off_db, None, "job LIKE 'refresh%%' OR job = 'rollup'")] == []
    assert off_db.rows(windows) == off_before

"""The endpoints operators point their tooling at: /healthz (the process answers),
/readyz (the database is reachable and migrated) and /metrics (Prometheus text, no
credentials): ingestion counted per outcome and per operation and target, the writer's
batches, commits and queue, and maintenance runs. Figures are compared with what was
sent and what PostgreSQL holds."""

from __future__ import annotations

import re

import requests

from payloads import SpanSpec, decode_export_response, export_bytes, now_ns, post_protobuf, span_id, trace_id
from selfspans import SELF_SERVICE, wait_for

MS = 1_000_000
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Scrape:
    """One /metrics answer: samples by name and labels (in any order), and # TYPE lines."""

    def __init__(self, text: str):
        self.samples: dict[tuple[str, frozenset], float] = {}
        self.types: dict[str, str] = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(maxsplit=3)
                self.types[name] = kind
                continue
            if not line.strip() or line.startswith("#"):
                continue
            match = SAMPLE.match(line)
            assert match, f"not a Prometheus sample line: {line!r}"
            name, labels, value = match.groups()
            key = (name, frozenset(LABEL.findall(labels or "")))
            assert key not in self.samples, f"sample repeated: {line!r}"
            self.samples[key] = float(value)

    def get(self, name: str, **labels) -> float | None:
        return self.samples.get((name, frozenset(labels.items())))

    def value(self, name: str, **labels) -> float:
        found = self.get(name, **labels)
        assert found is not None, f"no sample {name}{labels}; have {sorted(k[0] for k in self.samples)}"
        return found

    def series(self, name: str) -> dict[frozenset, float]:
        return {labels: v for (n, labels), v in self.samples.items() if n == name}


def scrape(server) -> Scrape:
    response = requests.get(server.base_url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4"), response.headers
    return Scrape(response.text)


def client_spans(db) -> int:
    """Spans stored from clients (the service's own are counted elsewhere)."""
    return db.scalar("SELECT count(*) FROM observability.spans WHERE service_name <> %s", SELF_SERVICE)


def tool_span(tool: str, error: bool = False) -> SpanSpec:
    t0 = now_ns()
    return SpanSpec(trace_id(), span_id(), "tools/call", t0, t0 + MS, kind="server",
                    status="error" if error else "unset",
                    attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": tool})


def export(http, server, spans: list[SpanSpec]):
    response = post_protobuf(http, server.traces_url, export_bytes({"metrics-test": spans}))
    assert response.status_code == 200, response.content
    return decode_export_response(response)


# MARK: Health


def test_healthz_answers_ok(server):
    response = requests.get(server.base_url + "/healthz", timeout=5)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_when_migrated(server):
    response = requests.get(server.base_url + "/readyz", timeout=5)
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_readyz_is_not_ready_while_a_migration_is_missing(make_database, start_server):
    db = make_database()
    server = start_server(db)
    latest = db.one("SELECT * FROM observability.schema_migrations ORDER BY version DESC LIMIT 1")
    db.execute("DELETE FROM observability.schema_migrations WHERE version = %s", latest["version"])
    try:
        response = requests.get(server.base_url + "/readyz", timeout=10)
        assert response.status_code == 503, response.text
        assert response.json()["status"] == "not ready" and response.json()["reason"]
        assert requests.get(server.base_url + "/healthz", timeout=5).status_code == 200  # alive all the same
    finally:
        columns = list(latest)
        db.execute(f"INSERT INTO observability.schema_migrations ({', '.join(columns)}) "
                   f"VALUES ({', '.join(['%s'] * len(columns))})", *latest.values())
    assert requests.get(server.base_url + "/readyz", timeout=10).status_code == 200


# MARK: /metrics


def test_accepted_spans_are_the_spans_stored(db, server, http):
    before = scrape(server).value("observatory_spans_accepted_total")
    assert before == client_spans(db)
    sent = 0
    for size in (1, 7, 25):
        export(http, server, [tool_span("accept-count") for _ in range(size)])
        sent += size
    after = scrape(server)
    assert after.value("observatory_spans_accepted_total") - before == sent
    assert after.value("observatory_spans_accepted_total") == client_spans(db)


def test_invalid_spans_count_as_rejected(db, server, http):
    before = scrape(server)
    t0 = now_ns()
    good = [tool_span("rejection-mix") for _ in range(2)]
    bad = [
        SpanSpec(b"\x00" * 16, span_id(), "zero trace id", t0, t0 + MS),
        SpanSpec(trace_id(), span_id(), "ends before it starts", t0, t0 - MS),
        SpanSpec(trace_id(), b"\x01\x02\x03\x04", "short span id", t0, t0 + MS),
    ]
    answer = export(http, server, good + bad)
    assert answer.partial_success.rejected_spans == 3
    after = scrape(server)
    assert after.value("observatory_spans_rejected_total", reason="invalid") - \
        before.value("observatory_spans_rejected_total", reason="invalid") == 3
    assert after.value("observatory_spans_accepted_total") - before.value("observatory_spans_accepted_total") == 2
    assert after.value("observatory_spans_accepted_total") == client_spans(db)


def test_excluded_spans_count_as_dropped(server, http):
    before = scrape(server).value("observatory_spans_dropped_total", reason="exclusion")
    t0 = now_ns()
    health_check = SpanSpec(trace_id(), span_id(), "GET /healthz", t0, t0 + MS, kind="server",
                            attributes={"http.request.method": "GET", "url.path": "/healthz"})
    export(http, server, [health_check])
    assert scrape(server).value("observatory_spans_dropped_total", reason="exclusion") - before == 1


def test_spans_per_operation_and_target(server, http):
    spans = ([tool_span("get_weather") for _ in range(5)] + [tool_span("get_weather", error=True) for _ in range(2)]
             + [tool_span("search_docs") for _ in range(3)])
    t0 = now_ns()
    spans.append(SpanSpec(trace_id(), span_id(), "prompts/get", t0, t0 + MS, kind="server", status="error",
                          attributes={"mcp.method.name": "prompts/get", "gen_ai.prompt.name": "summarize"}))
    export(http, server, spans[:4])
    export(http, server, spans[4:])

    metrics = scrape(server)
    assert metrics.types["observatory_operation_spans_total"] == "counter"
    assert metrics.value("observatory_operation_spans_total", operation="tool_invoke", target="get_weather") == 7
    assert metrics.value("observatory_operation_errors_total", operation="tool_invoke", target="get_weather") == 2
    assert metrics.value("observatory_operation_spans_total", operation="tool_invoke", target="search_docs") == 3
    assert (metrics.get("observatory_operation_errors_total", operation="tool_invoke", target="search_docs")
            or 0) == 0
    assert metrics.value("observatory_operation_spans_total", operation="prompt_render", target="summarize") == 1
    assert metrics.value("observatory_operation_errors_total", operation="prompt_render", target="summarize") == 1


def test_writer_and_maintenance_figures(db, server, http):
    export(http, server, [tool_span("writer-figures") for _ in range(10)])
    metrics = wait_for(lambda: (m := scrape(server)).get(
        "observatory_maintenance_runs_total", job="partitions", outcome="ok") and m, "a partitions run on /metrics")
    assert metrics.value("observatory_maintenance_runs_total", job="partitions", outcome="ok") >= 1
    assert metrics.value("observatory_maintenance_runs_total", job="retention", outcome="ok") >= 1

    for histogram in ("observatory_writer_batch_spans", "observatory_writer_commit_seconds"):
        assert metrics.types[histogram] == "histogram"
        count = metrics.value(f"{histogram}_count")
        assert count > 0 and metrics.value(f"{histogram}_sum") > 0, histogram
        series = metrics.series(f"{histogram}_bucket")
        buckets = sorted((float(dict(labels)["le"]), v) for labels, v in series.items())
        assert buckets[-1] == (float("inf"), count), histogram
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), f"{histogram} buckets must be cumulative"
    # Every stored span went through a batch: the client's and the service's own (whose
    # flushes go on in the background, hence the wait for the two to agree).
    wait_for(lambda: scrape(server).value("observatory_writer_batch_spans_sum")
             == db.scalar("SELECT count(*) FROM observability.spans"), "batched spans = stored spans", 5)
    assert metrics.types["observatory_writer_queue_spans"] == "gauge"
    assert metrics.value("observatory_writer_queue_spans") >= 0


def test_sampled_out_spans_count_as_dropped(make_database, start_server, http):
    db = make_database()
    server = start_server(db, OBSERVABILITY_SAMPLE_RATE="0")
    export(http, server, [tool_span("never-kept") for _ in range(40)])
    metrics = scrape(server)
    assert metrics.value("observatory_spans_dropped_total", reason="sampling") == 40
    assert metrics.value("observatory_spans_accepted_total") == 0
    assert db.scalar("SELECT count(*) FROM observability.spans") == 0


def test_public_metrics_need_no_credentials(make_database, start_server):
    """OBSERVABILITY_METRICS_PUBLIC=true: scrapers read /metrics while the dashboards ask
    for the admin password (without it /metrics asks too: test_hardening_web.py)."""
    db = make_database()
    server = start_server(db, OBSERVABILITY_ADMIN_USER="admin", OBSERVABILITY_ADMIN_PASSWORD="correct-horse",
                          OBSERVABILITY_METRICS_PUBLIC="true")
    assert requests.get(server.base_url + "/admin/observability/tools", timeout=10).status_code == 401
    assert "observatory_spans_accepted_total" in scrape(server).types

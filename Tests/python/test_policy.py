"""Trace policy on a live server: sampling keeps or drops whole traces, the same ones on
every replica; excluded paths drop their whole trace; events can be switched off."""

from __future__ import annotations

import random

import pytest
import requests

from payloads import SpanSpec, decode_export_response, export_bytes, now_ns, post_protobuf, trace_uuid

MS = 1_000_000
RATE = 0.5
TRACES = 10_000


def kept_traces(db, trace_ids: list[bytes]) -> dict[str, int]:
    """Stored span count per trace id (uuid text), for the given ids only."""
    rows = db.rows("SELECT trace_id::text AS t, count(*) AS n FROM observability.spans "
                   "WHERE trace_id = ANY(%s::uuid[]) GROUP BY 1", [trace_uuid(t) for t in trace_ids])
    return {r["t"]: r["n"] for r in rows}


def send_in_batches(http, server, spans: list[SpanSpec], per_request: int = 1000) -> None:
    for start in range(0, len(spans), per_request):
        response = post_protobuf(http, server.traces_url, export_bytes({"sampled": spans[start:start + per_request]}))
        assert response.status_code == 200, response.content
        assert not decode_export_response(response).HasField("partial_success"), "no span should be rejected"


class SampledSet:
    """Trace ids drawn from a seeded generator, so a run is reproducible."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)

    def trace_id(self) -> bytes:
        return self.random.getrandbits(128).to_bytes(16, "big")

    def span_id(self) -> bytes:
        return (self.random.getrandbits(64) or 1).to_bytes(8, "big")


@pytest.fixture(scope="module")
def http_module():
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def sampling(make_database, start_server, http_module):
    """10,000 one-span traces plus 200 four-span traces whose spans arrive in four
    separate requests, through a server with OBSERVABILITY_SAMPLE_RATE=0.5."""
    db = make_database()
    server = start_server(db, OBSERVABILITY_SAMPLE_RATE=str(RATE))
    ids = SampledSet(seed=20261125)
    t0 = now_ns()
    singles = [SpanSpec(ids.trace_id(), ids.span_id(), "single", t0, t0 + MS, kind="server") for _ in range(TRACES)]
    send_in_batches(http_module, server, singles)

    multi_ids = [ids.trace_id() for _ in range(200)]
    roots = {tid: ids.span_id() for tid in multi_ids}
    for part in range(4):  # request `part` carries span `part` of every trace
        spans = [SpanSpec(tid, roots[tid] if part == 0 else ids.span_id(), f"part {part}", t0 + part * MS,
                          t0 + (part + 1) * MS, parent_span_id=b"" if part == 0 else roots[tid])
                 for tid in multi_ids]
        send_in_batches(http_module, server, spans)
    return db, server, [s.trace_id for s in singles], multi_ids


def test_sample_rate_keeps_about_half(sampling):
    db, _, singles, _ = sampling
    kept = kept_traces(db, singles)
    assert set(kept.values()) == {1}
    assert abs(len(kept) - TRACES * RATE) <= TRACES * RATE * 0.03, len(kept)
    traces_rows = db.scalar("SELECT count(*) FROM observability.traces WHERE trace_id = ANY(%s::uuid[])",
                            [trace_uuid(t) for t in singles])
    assert traces_rows == len(kept)


def test_sampling_keeps_or_drops_a_trace_whole_across_requests(sampling):
    db, _, _, multi = sampling
    kept = kept_traces(db, multi)
    assert set(kept.values()) == {4}, "a trace split over requests must be kept whole or not at all"
    assert 0.3 * len(multi) < len(kept) < 0.7 * len(multi), len(kept)
    counts = db.rows("SELECT span_count FROM observability.traces WHERE trace_id = ANY(%s::uuid[])",
                     [trace_uuid(t) for t in multi])
    assert [r["span_count"] for r in counts] == [4] * len(kept)


def test_sampling_decision_is_the_same_on_another_replica(sampling, make_database, start_server, http_module):
    db, _, singles, multi = sampling
    subset = singles[::5] + multi  # 2,000 single-span traces and the split ones
    kept_first = set(kept_traces(db, subset))

    other_db = make_database()
    replica = start_server(other_db, OBSERVABILITY_SAMPLE_RATE=str(RATE))
    t0 = now_ns()
    ids = SampledSet(seed=7)
    send_in_batches(http_module, replica,
                    [SpanSpec(tid, ids.span_id(), "replayed", t0, t0 + MS, kind="server") for tid in subset])
    kept_second = set(kept_traces(other_db, subset))
    assert 0 < len(kept_second) < len(subset)
    assert kept_second == kept_first


def test_native_endpoint_counts_sampled_out_spans_as_dropped(sampling, http_module):
    db, server, _, _ = sampling
    ids = SampledSet(seed=31337)
    t0 = now_ns()
    tids = [ids.trace_id() for _ in range(400)]
    spans = [{"trace_id": t.hex(), "span_id": ids.span_id().hex(), "name": "native", "start_time": t0,
              "end_time": t0 + MS} for t in tids]
    response = http_module.post(server.spans_url, json={"service_name": "sampled-native", "spans": spans}, timeout=30)
    assert response.status_code == 200, response.text
    answer = response.json()
    stored = len(kept_traces(db, tids))
    assert (answer["accepted"], answer["dropped"], answer["rejected"]) == (stored, len(tids) - stored, 0)
    assert 0 < stored < len(tids)


def http_server_trace(path_attribute: str, path: str, children: int = 2) -> list[SpanSpec]:
    ids = SampledSet(seed=random.SystemRandom().getrandbits(64))
    t0 = now_ns()
    tid = ids.trace_id()
    root = SpanSpec(tid, ids.span_id(), f"GET {path}", t0, t0 + 10 * MS, kind="server",
                    attributes={"http.request.method": "GET", path_attribute: path})
    return [root] + [SpanSpec(tid, ids.span_id(), f"step {i}", t0 + i * MS, t0 + (i + 1) * MS,
                              parent_span_id=root.span_id) for i in range(1, children + 1)]


def test_excluded_paths_drop_the_whole_trace(db, server, http):
    """Default OBSERVABILITY_EXCLUDE_PATHS: /health, /healthz, /ready, /metrics, /static/.*"""
    dropped = {
        "/healthz": http_server_trace("url.path", "/healthz"),
        "/static/app.js": http_server_trace("url.path", "/static/app.js"),
        "/metrics (http.target)": http_server_trace("http.target", "/metrics?format=prometheus"),
        "/ready (http.route)": http_server_trace("http.route", "/ready"),
    }
    kept = {
        "/mcp": http_server_trace("url.path", "/mcp"),
        "/healthz/deep": http_server_trace("url.path", "/healthz/deep"),  # the pattern must match the whole path
        "/api/healthz": http_server_trace("url.path", "/api/healthz"),
        "/static": http_server_trace("url.path", "/static"),
    }
    # Children before their server span, all in one export.
    spans = [s for trace in [*dropped.values(), *kept.values()] for s in reversed(trace)]
    response = post_protobuf(http, server.traces_url, export_bytes({"web": spans}))
    assert response.status_code == 200, response.content

    stored = kept_traces(db, [t[0].trace_id for t in [*dropped.values(), *kept.values()]])
    assert {name: stored.get(trace_uuid(t[0].trace_id), 0) for name, t in dropped.items()} == dict.fromkeys(dropped, 0)
    assert {name: stored.get(trace_uuid(t[0].trace_id), 0) for name, t in kept.items()} == dict.fromkeys(kept, 3)
    for trace in dropped.values():
        assert db.scalar("SELECT count(*) FROM observability.traces WHERE trace_id = %s::uuid",
                         trace_uuid(trace[0].trace_id)) == 0

    # A span of an excluded trace that arrives in a later export is dropped too.
    late_tid = dropped["/healthz"][0].trace_id
    t0 = now_ns()
    late = SpanSpec(late_tid, b"\x01" * 8, "late child", t0, t0 + MS, parent_span_id=dropped["/healthz"][0].span_id)
    response = post_protobuf(http, server.traces_url, export_bytes({"web": [late]}))
    assert response.status_code == 200
    assert kept_traces(db, [late_tid]) == {}


def span_with_events(ids: SampledSet) -> SpanSpec:
    t0 = now_ns()
    return SpanSpec(ids.trace_id(), ids.span_id(), "tools/call explode", t0, t0 + 5 * MS, status="error",
                    status_message="tool crashed",
                    events=[("exception", t0 + MS, {"exception.type": "RuntimeError", "exception.message": "boom",
                                                    "exception.stacktrace": "Traceback ..."}),
                            ("retry", t0 + 2 * MS, {"attempt": 2})])


def test_events_disabled(db, server, make_database, start_server, http):
    ids = SampledSet(seed=99)
    # With the default, the events are stored...
    enabled = span_with_events(ids)
    assert post_protobuf(http, server.traces_url, export_bytes({"events-on": [enabled]})).status_code == 200
    assert db.scalar("SELECT count(*) FROM observability.span_events WHERE trace_id = %s",
                     enabled.trace_id.hex()) == 2

    # ...with OBSERVABILITY_EVENTS_ENABLED=false none is, and the span still is.
    off_db = make_database()
    off = start_server(off_db, OBSERVABILITY_EVENTS_ENABLED="false")
    span = span_with_events(ids)
    response = post_protobuf(http, off.traces_url, export_bytes({"events-off": [span]}))
    assert response.status_code == 200, response.content
    row = off_db.one("SELECT events, status, status_message FROM observability.spans WHERE trace_id = %s::uuid",
                     trace_uuid(span.trace_id))
    assert row == {"events": [], "status": "error", "status_message": "tool crashed"}
    assert off_db.scalar("SELECT count(*) FROM observability.span_events") == 0

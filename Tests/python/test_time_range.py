"""The accepted time range (issue 9, items 1, 2, 3 and 10) against a live server.

Ingestion accepts times from 1970 up to the server's clock plus the future skew
(SpanTimeRange.maxFutureSkewSeconds, 1 h; observability_internal.max_future_skew() in SQL) and
rejects the rest span by span; every read formats any time PostgreSQL can hold, even
rows written by SQL before the rule existed; the trace lists stop at the same bound;
retention removes what lies beyond it before the cap counts anything.

After every request that once crashed the process, the server must still be alive and
answer /healthz.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from payloads import (
    JSON, SpanSpec, decode_export_response, export_bytes, json_export, now_ns, post_protobuf, simple_trace, span_id,
    trace_id, trace_uuid,
)

U64_MAX = 2**64 - 1
SKEW = timedelta(hours=1)

READS = ["/api/v1/traces", "/api/v1/traces?window=30d", "/api/v1/metrics/summary", "/admin/observability/traces",
         "/admin/observability/traces?window=30d", "/admin/observability/metrics"]


@pytest.fixture(scope="module")
def server(db, start_server):
    """Self-tracing off, so the lists and counts hold only what the tests wrote."""
    return start_server(db, OBSERVABILITY_ENABLED="false")


def count_spans(db, tid: bytes) -> int:
    return db.scalar("SELECT count(*) FROM observability.spans WHERE trace_id = %s::uuid", trace_uuid(tid))


def assert_alive(server, http):
    assert server.is_alive(), server.log(last_lines=30)
    health = http.get(server.base_url + "/healthz", timeout=10)
    assert health.status_code == 200, health.text


def assert_reads_answer(server, http, trace_ids: list[str]):
    """Every list, summary and trace page answers 200 and the process stays up."""
    for path in READS + [f"/api/v1/traces/{t}" for t in trace_ids] + [f"/admin/observability/traces/{t}"
                                                                      for t in trace_ids]:
        response = http.get(server.base_url + path, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        assert_alive(server, http)


# MARK: Item 1: end time 2^64 - 1


def test_span_ending_at_u64_max_is_rejected_and_the_rest_stored(server, db, http):
    good = simple_trace("range-u64", spans=2)
    t0 = now_ns()
    bad = SpanSpec(trace_id(), span_id(), "ends in 2554", t0, U64_MAX)
    response = post_protobuf(http, server.traces_url, export_bytes({"range-u64": [good[0], bad, good[1]]}))
    assert response.status_code == 200, response.content
    partial = decode_export_response(response).partial_success
    assert partial.rejected_spans == 1
    assert '"ends in 2554": end time is more than 1 h ahead of the server\'s clock' in partial.error_message
    assert count_spans(db, good[0].trace_id) == 2
    assert count_spans(db, bad.trace_id) == 0
    assert_reads_answer(server, http, [good[0].trace_id.hex()])


@pytest.mark.parametrize("field", ["startTimeUnixNano", "endTimeUnixNano", "event"])
def test_otlp_json_times_past_the_skew_are_rejected(server, db, http, field):
    good = simple_trace("range-json")[0]
    t0 = now_ns()
    late = t0 + 2 * 3_600_000_000_000
    spec = SpanSpec(trace_id(), span_id(), "late " + field, t0, t0 + 1000)
    if field == "startTimeUnixNano":
        spec.start_ns, spec.end_ns = late, late + 1000
    elif field == "endTimeUnixNano":
        spec.end_ns = late
    else:
        spec.events = [("exception", late, {})]
    response = http.post(server.traces_url, json=json_export({"range-json": [good, spec]}), timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(JSON)
    partial = response.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 1
    assert "ahead of the server's clock (latest accepted: " in partial["errorMessage"], partial
    assert count_spans(db, good.trace_id) == 1
    assert count_spans(db, spec.trace_id) == 0
    assert_alive(server, http)


def test_time_within_the_skew_is_stored(server, db, http):
    t0 = now_ns() + 50 * 60 * 1_000_000_000  # 50 min ahead: a drifting clock, accepted
    spans = simple_trace("range-near", spans=2, start_ns=t0)
    response = post_protobuf(http, server.traces_url, export_bytes({"range-near": spans}))
    assert response.status_code == 200, response.content
    assert not decode_export_response(response).HasField("partial_success")
    assert count_spans(db, spans[0].trace_id) == 2


def test_skew_of_sql_matches_the_service(server, db, http):
    """migrations/0009's max_future_skew() and the service's constant name the same bound."""
    t0 = now_ns()
    bad = SpanSpec(trace_id(), span_id(), "probe", t0, U64_MAX)
    answer = decode_export_response(post_protobuf(http, server.traces_url, export_bytes({"probe": [bad]})))
    hours = int(re.search(r"more than (\d+) h ahead", answer.partial_success.error_message).group(1))
    assert db.scalar("SELECT observability_internal.max_future_skew()") == timedelta(hours=hours)


# MARK: Item 2: min_ms=1e22


@pytest.mark.parametrize("value", ["1e22", "1e308", "9223372036854775807", "18446744073709551615", "1e15",
                                   "59999.9999", "0"])
def test_huge_min_ms_is_answered(server, http, value):
    for path in ["/admin/observability/traces", "/api/v1/traces"]:
        response = http.get(server.base_url + path, params={"min_ms": value}, timeout=30)
        assert response.status_code == 200, (path, value, response.text[:300])
        assert_alive(server, http)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e309", "-1"])
def test_non_finite_min_ms_is_400(server, http, value):
    for path in ["/admin/observability/traces", "/api/v1/traces"]:
        response = http.get(server.base_url + path, params={"min_ms": value}, timeout=30)
        assert response.status_code == 400, (path, value, response.text[:300])
        assert "min_ms" in response.text
        assert_alive(server, http)


# MARK: Item 3: native year 2600


@pytest.mark.parametrize("start", ["2600-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999-23:59",
                                   "2554-07-21T23:34:33.709551615Z", "2554-07-21T23:34:33.709551616Z",
                                   "18446744073709551615", U64_MAX])
def test_native_far_future_start_is_rejected_not_fatal(server, db, http, start):
    t0 = now_ns()
    good_tid, bad_tid = trace_id(), trace_id()
    response = http.post(server.spans_url, timeout=30, json={"service_name": "range-native", "spans": [
        {"trace_id": good_tid.hex(), "span_id": span_id().hex(), "name": "now", "start_time": t0, "end_time": t0 + 1000},
        {"trace_id": bad_tid.hex(), "span_id": span_id().hex(), "name": "far", "start_time": start, "duration_ms": 5},
    ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1), body
    assert "start time is more than 1 h ahead of the server's clock" in body["errors"][0], body
    assert count_spans(db, good_tid) == 1 and count_spans(db, bad_tid) == 0
    assert_alive(server, http)


@pytest.mark.parametrize("text", ["2026-02-31T00:00:00Z", "2026-01-01T00:00:00+99:99", "2026-04-31T00:00:00Z"])
def test_native_impossible_dates_are_400(server, http, text):
    response = http.post(server.spans_url, timeout=30, json={"spans": [
        {"trace_id": trace_id().hex(), "span_id": span_id().hex(), "start_time": text, "end_time": text}]})
    assert response.status_code == 400, response.text
    assert "spans[0].start_time" in response.json()["error"]
    assert_alive(server, http)


# MARK: Rows stored before the rule (written by SQL)


def insert_trace(db, name: str, start: str, end: str, span_start: str | None = None, span_end: str | None = None,
                 duration: str = "'Infinity'::float8") -> str:
    """One trace row and one span, with times given as SQL expressions; returns the hex id."""
    tid = trace_id()
    db.execute(f"""
        WITH t AS (
            INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time, end_time,
                                              span_count, error_count)
            VALUES (%s::uuid, 1, %s, 'range-sql', {start}, {end}, 1, 1)
        )
        INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target,
                                         service_name, start_time, end_time, duration_ms, status, events)
        VALUES (%s::uuid, 1, NULL, %s, 'server', 'tool_invoke', 'x', 'range-sql', {span_start or start},
                {span_end or end}, {duration}, 'error',
                '[{{"name": "exception", "time": "294276-12-31T00:00:00Z"}}, {{"name": "late", "time": "2554-07-21T23:34:33.709551Z"}}]')
        """, trace_uuid(tid), name, trace_uuid(tid), name)
    return tid.hex()


def test_extreme_rows_written_by_sql_do_not_crash_any_read(db, start_server, http):
    """The rows of the review (an end in 2554) and worse (the last and first
    timestamptz, infinity in spans), stored before ingestion refused them: every list,
    summary and trace page answers, before and after a restart."""
    server = start_server(db, OBSERVABILITY_ENABLED="false")
    ids = [
        insert_trace(db, "ends in 2554", "now() - interval '1 min'", "'2554-07-21 23:34:33.709551+00'::timestamptz",
                     duration="18446744073709.551"),
        insert_trace(db, "ends in 294276", "now() - interval '2 min'", "'294276-12-31 23:59:59+00'::timestamptz",
                     duration="'1e308'::float8"),
        insert_trace(db, "starts in 4713 BC", "'4713-01-01 00:00:00+00 BC'::timestamptz", "now()",
                     duration="'-Infinity'::float8"),
        insert_trace(db, "infinite span", "now() - interval '3 min'", "now() - interval '3 min'",
                     span_start="now() - interval '3 min'", span_end="'infinity'::timestamptz",
                     duration="'NaN'::float8"),
        insert_trace(db, "starts in 2554", "'2554-07-21 23:34:33+00'", "'2554-07-21 23:34:33.709551+00'"),
    ]
    assert_reads_answer(server, http, ids)
    listed = http.get(server.base_url + "/api/v1/traces", timeout=30).json()
    by_name = {t["root_name"]: t for t in listed["traces"]}
    # Microseconds in 2554 are finer than a Double of seconds resolves: the last digit may move.
    assert by_name["ends in 2554"]["end_time"].startswith("2554-07-21T23:34:33.7095"), by_name
    assert by_name["ends in 294276"]["end_time"] == "2554-07-21T23:34:33.709551Z"  # the last one nanoseconds hold
    assert "starts in 2554" not in by_name  # past the lists' upper bound
    assert server.stop() == 0
    restarted = start_server(db, OBSERVABILITY_ENABLED="false")
    assert_reads_answer(restarted, http, ids)


# MARK: Item 10: lists and retention never prefer the future


def test_lists_stop_at_the_skew(server, db, http):
    near = insert_trace(db, "in 30 min", "now() + interval '30 min'", "now() + interval '30 min 1 s'")
    far = insert_trace(db, "in 2 h", "now() + interval '2 hours'", "now() + interval '2 hours 1 s'")
    farther = insert_trace(db, "in 2090", "'2090-01-01 00:00:00+00'", "'2090-01-01 00:00:01+00'")
    for path in ["/api/v1/traces", "/api/v1/traces?status=error", "/api/v1/metrics/summary"]:
        body = http.get(server.base_url + path, timeout=30).json()
        traces = body.get("traces") or body.get("recent_traces", []) + body.get("failed_traces", [])
        shown = {t["trace_id"] for t in traces}
        assert near in shown, (path, body)
        assert far not in shown and farther not in shown, (path, body)
    page = http.get(server.base_url + "/admin/observability/traces", timeout=30).text
    assert near in page and far not in page and farther not in page
    # Still reachable by id, for whoever has the link.
    assert http.get(server.base_url + f"/api/v1/traces/{far}", timeout=30).status_code == 200


def test_retention_cap_removes_future_traces_first(server, db, http):
    """The review's case: a cap, current traces and future-dated ones. Retention used to
    evict every current trace (oldest first) and keep the future ones."""
    db.execute("DELETE FROM observability.spans; DELETE FROM observability.traces")
    current = [simple_trace("range-cap", spans=2) for _ in range(5)]
    response = post_protobuf(http, server.traces_url, export_bytes({"range-cap": [s for t in current for s in t]}))
    assert response.status_code == 200 and not decode_export_response(response).HasField("partial_success")
    future = [insert_trace(db, f"future {i}", f"now() + interval '{i + 2} days'", f"now() + interval '{i + 2} days 1 s'")
              for i in range(5)]
    running_until_2554 = insert_trace(db, "ends in 2554", "now() - interval '1 h'", "'2554-07-21 23:34:33.709551+00'")
    done = db.one("SELECT * FROM observability.apply_retention(7, 5)")
    assert done["traces_deleted"] == 6 and done["traces_remaining"] == 5, done
    remaining = {r["id"] for r in db.rows("SELECT observability.hex_trace_id(trace_id) AS id FROM observability.traces")}
    assert remaining == {t[0].trace_id.hex() for t in current}
    assert db.scalar("SELECT count(*) FROM observability.spans") == 10
    assert not set(future) & remaining and running_until_2554 not in remaining
    details = db.scalar("SELECT details FROM observability.maintenance_log WHERE id = %s", done["log_id"])
    assert details["traces_future"] == 6
    listed = {t["trace_id"] for t in http.get(server.base_url + "/api/v1/traces", timeout=30).json()["traces"]}
    assert listed == remaining
    assert_alive(server, http)

"""Redaction time and what one export may cost, against a live server (issue 9, items 4, 5
and 6): a hostile value redacts in linear time and does not stall other requests; a resource
shared by many spans, and attribute keys of megabytes, do not grow the process.

Memory is read from /proc/<pid>/status (VmRSS) before and after; the bounds leave room for
the allocator keeping what it freed, not for a copy per span or a cache of every key."""

from __future__ import annotations

import gzip
import threading
import time

import requests

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.resource.v1 import resource_pb2

from payloads import (
    SpanSpec, decode_export_response, decode_status, key_values, now_ns, post_protobuf, proto_span,
    span_id, trace_id, trace_uuid,
)

MS = 1_000_000
GRPC_INVALID_ARGUMENT = 3
# Limits of the service (Sources/ObservatoryIngest/IngestLimits.swift), repeated here on purpose:
# the documentation promises them.
MAX_KEY_BYTES = 1024
MAX_RESOURCE_BYTES = 128 * 1024
DEFAULT_BODY_LIMIT = 16 * 1024 * 1024
MAX_EXPANDED_BYTES = 4 * DEFAULT_BODY_LIMIT


def hostile_url(size: int) -> str:
    """`x://` repeated, then one `@`: every scheme looks for user information up to the end."""
    return "x://" * (size // 4) + "@"


def native_span(value: str, tid: bytes | None = None) -> dict:
    t0 = now_ns()
    return {"trace_id": (tid or trace_id()).hex(), "span_id": span_id().hex(), "name": "hostile", "kind": "internal",
            "start_time": t0, "end_time": t0 + MS, "attributes": {"note": value}}


def export_with_resource(resource: dict, spans: list[SpanSpec]) -> bytes:
    request = trace_service_pb2.ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.CopyFrom(resource_pb2.Resource(attributes=key_values(resource)))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "limits"
    scope_spans.spans.extend(proto_span(s) for s in spans)
    return request.SerializeToString()


def many_spans(count: int, attributes: dict | None = None) -> list[SpanSpec]:
    tid, t0 = trace_id(), now_ns()
    return [SpanSpec(tid, span_id(), f"s{i}", t0 + i * MS, t0 + (i + 1) * MS, attributes=attributes or {})
            for i in range(count)]


def rss_mib(server) -> float:
    return server.memory_kib("VmRSS") / 1024


# MARK: Item 4: redaction in linear time


def test_hostile_url_value_redacts_in_well_under_a_second(server, db, http):
    tid = trace_id()
    started = time.monotonic()
    response = http.post(server.spans_url, json={"service_name": "hostile", "spans": [native_span(hostile_url(80_000), tid)]},
                         timeout=60)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    assert elapsed < 1.0, f"an 80 KB hostile value took {elapsed:.2f} s"
    stored = db.scalar("SELECT attributes->>'note' FROM observability.spans WHERE trace_id = %s::uuid", trace_uuid(tid))
    assert stored.startswith("x://x://") and "…[truncated" in stored


def test_healthz_answers_during_two_hostile_requests(server, http):
    answers: list[tuple[int, float]] = []

    def post():
        started = time.monotonic()
        import requests
        response = requests.post(server.spans_url, json={"service_name": "hostile", "spans": [native_span(hostile_url(40_000))]},
                                 timeout=60)
        answers.append((response.status_code, time.monotonic() - started))

    posters = [threading.Thread(target=post) for _ in range(2)]
    for poster in posters:
        poster.start()
    slowest_health = 0.0
    while any(p.is_alive() for p in posters):
        started = time.monotonic()
        assert http.get(server.base_url + "/healthz", timeout=30).status_code == 200
        slowest_health = max(slowest_health, time.monotonic() - started)
        time.sleep(0.01)
    for poster in posters:
        poster.join()
    assert [status for status, _ in answers] == [200, 200]
    assert max(seconds for _, seconds in answers) < 1.0, answers
    assert slowest_health < 0.5, f"/healthz took {slowest_health:.2f} s during two 40 KB hostile requests"


# MARK: Item 5: a resource carried by every span


def test_resource_of_512_kib_times_1000_spans(server, http):
    """One 512 KiB resource shared by 1,000 spans: a 20 KB gzip request that would expand
    to 512 MB of stored rows. The resource is over its own limit: every span is rejected,
    with the reason, and the process does not grow."""
    resource = {"service.name": "wide-resource", **{f"r{i}": f"{i:04d}" + "x" * 8_000 for i in range(64)}}
    body = gzip.compress(export_with_resource(resource, many_spans(1_000)))
    assert len(body) < 64 * 1024
    before = rss_mib(server)
    response = post_protobuf(http, server.traces_url, body, headers={"Content-Encoding": "gzip"}, timeout=120)
    after = rss_mib(server)
    assert response.status_code == 200, response.content[:300]
    partial = decode_export_response(response).partial_success
    assert partial.rejected_spans == 1_000
    assert f"exceed the limit of {MAX_RESOURCE_BYTES} bytes" in partial.error_message, partial.error_message
    assert after - before < 100, f"RSS grew from {before:.0f} to {after:.0f} MiB"
    assert server.healthy()


def test_expanded_export_over_the_limit_is_413(server, db, http):
    """A resource under its own limit (120 KB) shared by 1,000 spans: 120 MB of rows, over
    the expanded limit: 413, naming the limit, and nothing stored."""
    resource = {"service.name": "expanding", **{f"r{i}": f"{i:04d}" + "y" * 8_000 for i in range(15)}}
    spans = many_spans(1_000)
    body = gzip.compress(export_with_resource(resource, spans))
    before = rss_mib(server)
    response = post_protobuf(http, server.traces_url, body, headers={"Content-Encoding": "gzip"}, timeout=120)
    after = rss_mib(server)
    assert response.status_code == 413, response.content[:300]
    status = decode_status(response)
    assert status.code == GRPC_INVALID_ARGUMENT
    assert str(MAX_EXPANDED_BYTES) in status.message, status.message
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE trace_id = %s::uuid", trace_uuid(spans[0].trace_id)) == 0
    assert after - before < 100, f"RSS grew from {before:.0f} to {after:.0f} MiB"
    assert server.healthy()


def test_expanded_export_over_the_limit_is_413_on_the_native_api(server, http):
    resource = {f"r{i}": f"{i:04d}" + "y" * 8_000 for i in range(15)}
    tid = trace_id()
    spans = [native_span("v", tid) for _ in range(1_000)]
    response = http.post(server.spans_url, json={"service_name": "expanding", "resource": resource, "spans": spans},
                         timeout=120)
    assert response.status_code == 413, response.text[:300]
    assert str(MAX_EXPANDED_BYTES) in response.json()["error"]
    assert server.healthy()


# MARK: Item 6: attribute keys of megabytes


def test_forty_keys_of_4_mib_are_rejected_and_leave_no_memory(server, http):
    before = rss_mib(server)
    started = time.monotonic()
    for index in range(40):
        key = f"{index:02d}" + "k" * (4 * 1024 * 1024 - 2)
        body = export_with_resource({"service.name": "long-keys"}, many_spans(1, attributes={key: "v"}))
        response = post_protobuf(http, server.traces_url, body, timeout=60)
        assert response.status_code == 200, response.content[:300]
        partial = decode_export_response(response).partial_success
        assert partial.rejected_spans == 1
        assert f"exceeds the limit of {MAX_KEY_BYTES} bytes" in partial.error_message, partial.error_message
    elapsed = time.monotonic() - started
    after = rss_mib(server)
    assert after - before < 64, f"RSS grew from {before:.0f} to {after:.0f} MiB after 40 distinct 4 MiB keys"
    assert elapsed < 60, f"40 requests took {elapsed:.1f} s"
    assert server.healthy()


def test_key_at_the_limit_is_stored(server, db, http):
    key = "k" * MAX_KEY_BYTES
    spans = many_spans(1, attributes={key: "v"})
    response = post_protobuf(http, server.traces_url, export_with_resource({"service.name": "long-keys"}, spans), timeout=30)
    assert response.status_code == 200
    assert not decode_export_response(response).HasField("partial_success")
    stored = db.scalar("SELECT attributes->>%s FROM observability.spans WHERE trace_id = %s::uuid", key,
                       trace_uuid(spans[0].trace_id))
    assert stored == "v"


def test_memory_follows_the_queue_not_the_volume(server, db, http):
    """Spans committed are let go: memory after 200 exports of 300 spans (two kilobytes of
    attributes each, about 120 MB of rows) is what it was after the first 40. The span writer
    once kept up to 1,024 answered requests' spans alive, which grew the process by the
    volume sent until then."""
    def send(count: int) -> None:
        def worker(jobs: int) -> None:
            with requests.Session() as session:
                for _ in range(jobs):
                    body = export_with_resource({"service.name": "volume"}, many_spans(300, {"padding": "p" * 2000}))
                    assert post_protobuf(session, server.traces_url, body, timeout=60).status_code == 200
        threads = [threading.Thread(target=worker, args=(count // 4,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    send(40)
    warm = rss_mib(server)
    send(160)
    after = rss_mib(server)
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE service_name = 'volume'") == 200 * 300
    assert after - warm < 40, f"RSS grew from {warm:.0f} to {after:.0f} MiB while 48,000 spans were committed"
    assert server.healthy()

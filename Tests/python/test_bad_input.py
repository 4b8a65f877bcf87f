"""Hostile and broken requests against a live server: each gets the documented status,
and afterwards the server still answers /healthz and stores a good export."""

from __future__ import annotations

import copy
import gzip
import json
import math
import random
import struct
import zlib

import pytest
from google.protobuf.descriptor import FieldDescriptor
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from payloads import (
    JSON, PROTOBUF, SpanSpec, decode_export_response, decode_status, export_bytes, export_request, json_export,
    now_ns, post_protobuf, signed_span_id, simple_trace, span_id, trace_id, trace_uuid,
)

SMALL_LIMIT = 65536
TOKEN = "s3cret-ingest-token-7f2a"
GRPC_INVALID_ARGUMENT = 3
GRPC_UNAUTHENTICATED = 16


@pytest.fixture(scope="module")
def small_server(db, start_server):
    return start_server(db, OBSERVABILITY_MAX_BODY_BYTES=str(SMALL_LIMIT))


@pytest.fixture(scope="module")
def token_server(db, start_server):
    return start_server(db, OBSERVABILITY_INGEST_TOKEN=TOKEN)


def count_spans(db, tid: bytes) -> int:
    return db.scalar("SELECT count(*) FROM observability.spans WHERE trace_id = %s::uuid", trace_uuid(tid))


def assert_still_serving(server, db, http, headers: dict | None = None):
    """The server answers /healthz and a good export is committed."""
    assert server.is_alive(), server.log(last_lines=30)
    health = http.get(server.base_url + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    spans = simple_trace("after-bad-input", spans=2)
    response = post_protobuf(http, server.traces_url, export_bytes({"after-bad-input": spans}), headers=headers)
    assert response.status_code == 200, response.content
    assert not decode_export_response(response).HasField("partial_success")
    assert count_spans(db, spans[0].trace_id) == 2


def assert_status_body(response, http_status: int, grpc_code: int, fmt: str = PROTOBUF) -> str:
    """The answer carries a google.rpc.Status in the request's format; returns its message."""
    assert response.status_code == http_status, (response.status_code, response.content[:500])
    if fmt == PROTOBUF:
        status = decode_status(response)
        code, message = status.code, status.message
    else:
        assert response.headers["Content-Type"].startswith(JSON), response.headers
        body = response.json()
        code, message = body.get("code"), body.get("message")
    assert code == grpc_code, (code, message)
    assert message, "the status should say what was wrong"
    return message


def good_body() -> bytes:
    return export_bytes({"svc": simple_trace("svc", spans=3)})


def gzip_of_zeros(total: int, chunk: int = 1 << 20) -> bytes:
    """A valid gzip member inflating to `total` zero bytes, built in well under a second:
    after a full flush, deflate encodes every further chunk of zeros identically."""
    assert total % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(chunk)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(total // chunk):
        crc = zlib.crc32(zeros, crc)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * (total // chunk) + final + struct.pack("<II", crc, total & 0xFFFFFFFF)


def test_gzip_of_zeros_builder_is_valid():
    assert gzip.decompress(gzip_of_zeros(4 << 20)) == bytes(4 << 20)


def test_truncated_protobuf(server, db, http):
    body = good_body()
    # Cut inside the first ResourceSpans: its length prefix now promises more than follows.
    response = post_protobuf(http, server.traces_url, body[: len(body) // 2])
    assert_status_body(response, 400, GRPC_INVALID_ARGUMENT)
    assert_still_serving(server, db, http)


def test_random_bytes(server, db, http):
    noise = bytes([0xFF]) + random.Random(1234).randbytes(4095)  # 0xFF: field 31, wire type 7 (invalid)
    response = post_protobuf(http, server.traces_url, noise)
    assert_status_body(response, 400, GRPC_INVALID_ARGUMENT)
    assert_still_serving(server, db, http)


@pytest.mark.parametrize("body", [
    b'{"resourceSpans": [{"scopeSpans": [',
    b"not json at all",
    b'{"resourceSpans": "nope"}',
    b"\xff\xfe\x00garbage",
], ids=["cut-off", "not-json", "wrong-type", "binary"])
def test_invalid_json(server, db, http, body):
    response = http.post(server.traces_url, data=body, headers={"Content-Type": JSON}, timeout=30)
    assert_status_body(response, 400, GRPC_INVALID_ARGUMENT, fmt=JSON)
    native = http.post(server.spans_url, data=body, headers={"Content-Type": JSON}, timeout=30)
    assert native.status_code == 400
    assert native.json()["status"] == 400 and native.json()["error"]
    assert_still_serving(server, db, http)


def test_json_with_wrong_length_ids_is_a_partial_success(server, db, http):
    good = simple_trace("json-ids", spans=2)
    t0 = now_ns()
    bad_trace = SpanSpec(trace_id()[:15], span_id(), "short trace id", t0, t0 + 1000)
    bad_span = SpanSpec(trace_id(), span_id() + b"\x01", "long span id", t0, t0 + 1000)
    body = json_export({"json-ids": [good[0], bad_trace, bad_span, good[1]]})
    response = http.post(server.traces_url, json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(JSON)
    partial = response.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 2  # int64 is a string in the JSON mapping
    assert "16 bytes" in partial["errorMessage"] and "8 bytes" in partial["errorMessage"], partial
    assert count_spans(db, good[0].trace_id) == 2
    assert count_spans(db, bad_span.trace_id) == 0
    assert_still_serving(server, db, http)


def test_protobuf_valid_and_invalid_spans_mixed(server, db, http):
    good = simple_trace("mixed", spans=3)
    t0 = now_ns()
    invalid = [
        SpanSpec(trace_id()[:8], span_id(), "8-byte trace id", t0, t0 + 1000),
        SpanSpec(trace_id(), b"", "no span id", t0, t0 + 1000),
        SpanSpec(bytes(16), span_id(), "zero trace id", t0, t0 + 1000),
        SpanSpec(trace_id(), span_id(), "ends before it starts", t0, t0 - 1000),
        SpanSpec(trace_id(), span_id(), "bad parent", t0, t0 + 1000, parent_span_id=b"\x01\x02\x03"),
    ]
    response = post_protobuf(http, server.traces_url, export_bytes({"mixed": [good[0], *invalid, good[1], good[2]]}))
    assert response.status_code == 200, response.content
    answer = decode_export_response(response)
    assert answer.partial_success.rejected_spans == len(invalid)
    assert answer.partial_success.error_message
    stored = db.rows("SELECT span_id FROM observability.spans WHERE trace_id = %s::uuid", trace_uuid(good[0].trace_id))
    assert sorted(r["span_id"] for r in stored) == sorted(signed_span_id(s.span_id) for s in good)
    for spec in invalid[1:]:
        if len(spec.trace_id) == 16:
            assert count_spans(db, spec.trace_id) == 0, spec.name
    assert_still_serving(server, db, http)


@pytest.mark.parametrize("content_type", ["text/plain", "application/grpc", "application/xml", None])
def test_wrong_content_type(server, db, http, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(server.traces_url, data=good_body(), headers=headers, timeout=30)
    assert_status_body(response, 415, GRPC_INVALID_ARGUMENT)
    native = http.post(server.spans_url, data=b"{}", headers=headers, timeout=30)
    assert native.status_code == 415
    assert_still_serving(server, db, http)


@pytest.mark.parametrize("encoding", ["br", "deflate", "zstd"])
def test_unsupported_content_encoding(server, db, http, encoding):
    response = post_protobuf(http, server.traces_url, zlib.compress(good_body()),
                             headers={"Content-Encoding": encoding})
    assert_status_body(response, 415, GRPC_INVALID_ARGUMENT)
    assert_still_serving(server, db, http)


def test_gzip_body_is_accepted(server, db, http):
    spans = simple_trace("gzipped", spans=4)
    response = post_protobuf(http, server.traces_url, gzip.compress(export_bytes({"gzipped": spans})),
                             headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200, response.content
    assert count_spans(db, spans[0].trace_id) == 4


def test_invalid_gzip_is_400(server, db, http):
    response = post_protobuf(http, server.traces_url, b"\x1f\x8b\x08\x00garbage-not-deflate",
                             headers={"Content-Encoding": "gzip"})
    assert_status_body(response, 400, GRPC_INVALID_ARGUMENT)
    assert_still_serving(server, db, http)


def padded_export(size: int) -> tuple[bytes, bytes]:
    """A valid export of one span whose attribute pads the body to exactly `size` bytes."""
    tid = trace_id()
    t0 = now_ns()
    padding = 0
    while True:
        spec = SpanSpec(tid, span_id(), "padded", t0, t0 + 1000, attributes={"blob": "x" * padding})
        body = export_request({"padded": [spec]}).SerializeToString()
        if len(body) == size:
            return tid, body
        padding += size - len(body)
        assert padding >= 0


def test_body_at_and_over_the_limit(small_server, db, http):
    tid, at_limit = padded_export(SMALL_LIMIT)
    response = post_protobuf(http, small_server.traces_url, at_limit)
    assert response.status_code == 200, response.content
    assert count_spans(db, tid) == 1

    tid, over = padded_export(SMALL_LIMIT + 1)
    response = post_protobuf(http, small_server.traces_url, over)
    assert_status_body(response, 413, GRPC_INVALID_ARGUMENT)
    assert count_spans(db, tid) == 0
    big = http.post(small_server.spans_url, data=b"{" + b" " * (4 * SMALL_LIMIT) + b"}",
                    headers={"Content-Type": JSON}, timeout=30)
    assert big.status_code == 413
    assert_still_serving(small_server, db, http)


def test_gzip_body_over_the_limit_after_decompression(small_server, db, http):
    tid, body = padded_export(4 * SMALL_LIMIT)
    compressed = gzip.compress(body)
    assert len(compressed) < SMALL_LIMIT // 8
    response = post_protobuf(http, small_server.traces_url, compressed, headers={"Content-Encoding": "gzip"})
    assert_status_body(response, 413, GRPC_INVALID_ARGUMENT)
    assert count_spans(db, tid) == 0
    assert_still_serving(small_server, db, http)


def test_gzip_bomb(server, db, http):
    bomb_size = 1 << 30
    bomb = gzip_of_zeros(bomb_size)
    assert len(bomb) < 2 << 20  # deflate cannot do better than ~1:1032
    for _ in range(3):
        response = post_protobuf(http, server.traces_url, bomb, headers={"Content-Encoding": "gzip"})
        assert_status_body(response, 413, GRPC_INVALID_ARGUMENT)
    native = http.post(server.spans_url, data=bomb, headers={"Content-Type": JSON, "Content-Encoding": "gzip"},
                       timeout=60)
    assert native.status_code == 413
    peak_kib = server.memory_kib("VmHWM")
    assert peak_kib * 1024 < bomb_size // 8, f"peak RSS {peak_kib} KiB for a {bomb_size >> 20} MiB bomb"
    assert_still_serving(server, db, http)


def test_missing_or_wrong_token(token_server, db, http):
    body = good_body()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Authorization": "Bearer " + TOKEN[:-1]}, {"Authorization": "Bearer " + TOKEN + "x"},
                    {"Authorization": "Basic " + TOKEN}):
        response = post_protobuf(http, token_server.traces_url, body, headers=headers)
        assert_status_body(response, 401, GRPC_UNAUTHENTICATED)
        native = http.post(token_server.spans_url, json={"spans": []}, headers=headers, timeout=30)
        assert native.status_code == 401, headers
    t0 = now_ns()
    native_ok = http.post(token_server.spans_url, headers={"Authorization": "Bearer " + TOKEN}, timeout=30, json={
        "service_name": "token-native",
        "spans": [{"trace_id": trace_id().hex(), "span_id": span_id().hex(), "name": "x",
                   "start_time": t0, "end_time": t0 + 1000}]})
    assert native_ok.status_code == 200 and native_ok.json()["accepted"] == 1
    assert_still_serving(token_server, db, http, headers={"Authorization": "Bearer " + TOKEN})
    # Without the token even the good export is refused, and nothing of it is stored.
    spans = simple_trace("no-token")
    refused = post_protobuf(http, token_server.traces_url, export_bytes({"no-token": spans}))
    assert refused.status_code == 401
    assert count_spans(db, spans[0].trace_id) == 0


def test_awkward_strings_round_trip(server, db, http):
    """Tabs, newlines, backslashes, COPY's own markers (\\N, \\.), CR, astral characters:
    stored exactly; NUL, which PostgreSQL text cannot hold, becomes U+FFFD."""
    awkward = "tab\there\nnew line\\back\\slash \\N \\.\n\\.\r\n end ☃ \U0001F600"
    tid, t0 = trace_id(), now_ns()
    spec = SpanSpec(tid, span_id(), awkward, t0, t0 + 1000, status="error", status_message=awkward,
                    attributes={awkward: awkward, "nul": "a\x00b"}, events=[(awkward, t0, {"e": awkward})])
    response = post_protobuf(http, server.traces_url, export_bytes({awkward: [spec]}))
    assert response.status_code == 200, response.content
    row = db.one("SELECT name, service_name, status_message, attributes, events FROM observability.spans "
                 "WHERE trace_id = %s::uuid", trace_uuid(tid))
    assert row["name"] == row["service_name"] == row["status_message"] == awkward
    assert row["attributes"] == {awkward: awkward, "nul": "a\ufffdb"}
    assert [(e["name"], e["attributes"]) for e in row["events"]] == [(awkward, {"e": awkward})]
    assert_still_serving(server, db, http)


@pytest.mark.parametrize("start_s", [5, 978_307_200], ids=["1970", "2001"])
def test_timestamps_far_in_the_past_are_stored(server, db, http, start_s):
    tid = trace_id()
    start_ns = start_s * 1_000_000_000
    response = post_protobuf(http, server.traces_url,
                             export_bytes({"clock": [SpanSpec(tid, span_id(), "skewed", start_ns, start_ns + 1000)]}))
    assert response.status_code == 200, response.content
    row = db.one("SELECT tableoid::regclass::text AS part, extract(epoch FROM start_time)::bigint AS s "
                 "FROM observability.spans WHERE trace_id = %s::uuid", trace_uuid(tid))
    assert row == {"part": "observability.spans_default", "s": start_s}


def test_timestamps_in_the_future_are_rejected(server, db, http):
    """Beyond the server's clock plus the skew (1 h), a span is refused, not stored
    (test_time_range.py covers the range in full)."""
    tid = trace_id()
    start_ns = 3_786_912_000 * 1_000_000_000  # 2090
    response = post_protobuf(http, server.traces_url,
                             export_bytes({"clock": [SpanSpec(tid, span_id(), "skewed", start_ns, start_ns + 1000)]}))
    assert response.status_code == 200, response.content
    partial = decode_export_response(response).partial_success
    assert partial.rejected_spans == 1 and "ahead of the server's clock" in partial.error_message
    assert count_spans(db, tid) == 0


# MARK: Numeric extremes in every numeric field and query parameter (issue 9)

#: 0, 2^63 - 1, 2^64 - 1, NaN, +-infinity, 1e308: what the fuzz puts in every numeric field.
EXTREMES = [0, 2**63 - 1, 2**64 - 1, math.nan, math.inf, -math.inf, 1e308]

INTEGER_BITS = {
    FieldDescriptor.TYPE_FIXED64: (64, False), FieldDescriptor.TYPE_UINT64: (64, False),
    FieldDescriptor.TYPE_INT64: (64, True), FieldDescriptor.TYPE_SFIXED64: (64, True),
    FieldDescriptor.TYPE_SINT64: (64, True), FieldDescriptor.TYPE_FIXED32: (32, False),
    FieldDescriptor.TYPE_UINT32: (32, False), FieldDescriptor.TYPE_INT32: (32, True),
    FieldDescriptor.TYPE_SFIXED32: (32, True), FieldDescriptor.TYPE_SINT32: (32, True),
    FieldDescriptor.TYPE_ENUM: (32, True),
}
FLOATING = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


def as_field_value(value, field_type):
    """`value` in a field of `field_type`: integers by their bit pattern (2^64 - 1 is -1
    in an int64), non-finite and huge floats as the integer type's extremes."""
    if field_type in FLOATING:
        return float(value)
    bits, signed = INTEGER_BITS[field_type]
    if isinstance(value, float):
        value = 0 if math.isnan(value) else (2**bits - 1 if value > 0 else 2 ** (bits - 1))
    value %= 2**bits
    return value - 2**bits if signed and value >= 2 ** (bits - 1) else value


def full_protobuf_template() -> trace_service_pb2.ExportTraceServiceRequest:
    """A valid export in which every message type that has numeric fields occurs once."""
    t0 = now_ns()
    spec = SpanSpec(trace_id(), span_id(), "extremes", t0, t0 + 1000, attributes={"i": 1, "d": 1.5},
                    events=[("e", t0, {"i": 1, "d": 1.5})])
    request = export_request({"fuzz-extremes": [spec]})
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.links.add(trace_id=trace_id(), span_id=span_id()).attributes.add(key="i").value.int_value = 1
    request.resource_spans[0].resource.attributes.add(key="d").value.double_value = 1.5
    request.resource_spans[0].scope_spans[0].scope.attributes.add(key="i").value.int_value = 1
    return request


def numeric_field_paths(message, path=()):
    """(path, field) of every numeric field reachable in `message` through set
    submessages (first element of repeated ones), including unset numeric fields."""
    for field in message.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            repeated = field.is_repeated if hasattr(field, "is_repeated") else \
                field.label == FieldDescriptor.LABEL_REPEATED
            if repeated:
                if len(getattr(message, field.name)):
                    yield from numeric_field_paths(getattr(message, field.name)[0], path + ((field.name, 0),))
            elif message.HasField(field.name):
                yield from numeric_field_paths(getattr(message, field.name), path + ((field.name, None),))
        elif field.type in INTEGER_BITS or field.type in FLOATING:
            yield path, field


def protobuf_with(template, path, field, value) -> bytes:
    """The template with one field set and fresh ids, so no variant is skipped as a
    repeat of one stored before."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    request.CopyFrom(template)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.trace_id, span.span_id = trace_id(), span_id()
    target = request
    for name, index in path:
        target = getattr(target, name)[index] if index is not None else getattr(target, name)
    setattr(target, field.name, as_field_value(value, field.type))
    return request.SerializeToString()


def assert_answered(server, http, response, what):
    assert response.status_code in (200, 400), (what, response.status_code, response.content[:300])
    assert server.is_alive(), (what, server.log(last_lines=30))


def assert_nothing_stored_beyond_the_skew(server, db, http):
    """No span past the clock plus the skew was stored, and every read still answers."""
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE end_time > now() + interval '1 hour'"
                     " OR start_time > now() + interval '1 hour'") == 0
    for path in ("/api/v1/traces", "/api/v1/metrics/summary", "/admin/observability/traces"):
        assert http.get(server.base_url + path, timeout=30).status_code == 200, path
        assert server.is_alive(), (path, server.log(last_lines=30))


def test_protobuf_numeric_extremes_in_every_field(server, db, http):
    template = full_protobuf_template()
    paths = list(numeric_field_paths(template))
    names = {f"{'.'.join(n for n, _ in path)}.{field.name}" for path, field in paths}
    assert {"resource_spans.scope_spans.spans.start_time_unix_nano", "resource_spans.scope_spans.spans.kind",
            "resource_spans.scope_spans.spans.events.time_unix_nano",
            "resource_spans.scope_spans.spans.attributes.value.double_value",
            "resource_spans.scope_spans.spans.status.code"} <= names, names
    for path, field in paths:
        for value in EXTREMES:
            response = post_protobuf(http, server.traces_url, protobuf_with(template, path, field, value))
            assert_answered(server, http, response, (path, field.name, value))
    assert_nothing_stored_beyond_the_skew(server, db, http)
    assert_still_serving(server, db, http)


JSON_NUMERIC_KEYS = {"startTimeUnixNano", "endTimeUnixNano", "timeUnixNano", "kind", "code", "intValue", "doubleValue",
                     "droppedAttributesCount", "droppedEventsCount", "droppedLinksCount", "flags"}
#: The extremes as JSON text: numbers (NaN and Infinity are not JSON, so 400), and as the
#: strings the OTLP JSON mapping allows for 64-bit integers and non-finite doubles.
JSON_EXTREMES = ["0", "9223372036854775807", "18446744073709551615", "NaN", "Infinity", "-Infinity", "1e308",
                 '"0"', '"9223372036854775807"', '"18446744073709551615"', '"NaN"', '"Infinity"', '"-Infinity"',
                 '"1e308"', "-1", "1.5"]


def json_numeric_paths(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in JSON_NUMERIC_KEYS:
                yield path + (key,)
            else:
                yield from json_numeric_paths(value, path + (key,))
    elif isinstance(node, list) and node:
        yield from json_numeric_paths(node[0], path + (0,))


def json_with(template: dict, path: tuple, raw: str) -> bytes:
    """The template with `raw` JSON text at `path` and fresh ids (see protobuf_with)."""
    marker = "@@EXTREME@@"
    document = copy.deepcopy(template)
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"] if "resourceSpans" in document \
        else document["spans"]
    for span in spans:
        if "traceId" in span:
            span["traceId"], span["spanId"] = trace_id().hex(), span_id().hex()
        else:
            span["trace_id"], span["span_id"] = trace_id().hex(), span_id().hex()
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = marker
    return json.dumps(document).replace(f'"{marker}"', raw).encode()


def test_otlp_json_numeric_extremes_in_every_field(server, db, http):
    t0 = now_ns()
    spec = SpanSpec(trace_id(), span_id(), "extremes", t0, t0 + 1000, attributes={"i": 1, "d": 1.5},
                    events=[("e", t0, {"i": 1, "d": 1.5})])
    template = json_export({"fuzz-json": [spec]})
    span = template["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span.update(droppedAttributesCount=0, droppedEventsCount=0, droppedLinksCount=0, flags=0)
    paths = list(json_numeric_paths(template))
    assert len(paths) >= 10, paths
    for path in paths:
        for raw in JSON_EXTREMES:
            response = http.post(server.traces_url, data=json_with(template, path, raw),
                                 headers={"Content-Type": JSON}, timeout=30)
            assert_answered(server, http, response, (path, raw))
    assert_nothing_stored_beyond_the_skew(server, db, http)
    assert_still_serving(server, db, http)


def test_native_numeric_extremes_in_every_field(server, db, http):
    t0 = now_ns()
    template = {"service_name": "fuzz-native", "spans": [{
        "trace_id": trace_id().hex(), "span_id": span_id().hex(), "name": "extremes", "start_time": t0,
        "end_time": t0 + 1000, "duration_ms": 1, "attributes": {"i": 1, "d": 1.5},
        "events": [{"name": "e", "time": t0, "attributes": {"i": 1}}]}]}
    paths = [("spans", 0, "start_time"), ("spans", 0, "end_time"), ("spans", 0, "duration_ms"),
             ("spans", 0, "attributes", "i"), ("spans", 0, "attributes", "d"), ("spans", 0, "events", 0, "time"),
             ("spans", 0, "events", 0, "attributes", "i")]
    for path in paths:
        for raw in JSON_EXTREMES + ["-1e308", "1e309"]:
            document = copy.deepcopy(template)
            if path[-1] == "duration_ms" or path[-1] == "end_time":
                document["spans"][0].pop("end_time" if path[-1] == "duration_ms" else "duration_ms")
            response = http.post(server.spans_url, data=json_with(document, path, raw),
                                 headers={"Content-Type": JSON}, timeout=30)
            assert_answered(server, http, response, (path, raw))
    assert_nothing_stored_beyond_the_skew(server, db, http)
    assert_still_serving(server, db, http)


#: Every read route: dashboard pages, their fragments, and the /api/v1 reads.
READ_ROUTES = [
    "/admin/observability/metrics", "/admin/observability/metrics/fragment", "/admin/observability/traces",
    *[f"/admin/observability/{page}{suffix}" for page in ("tools", "prompts", "resources") for suffix in ("", "/fragment")],
    "/api/v1/metrics/summary", *[f"/api/v1/metrics/{page}" for page in ("tools", "prompts", "resources")],
    "/api/v1/traces",
]
QUERY_PARAMETERS = ["window", "limit", "page", "min_ms", "refresh", "sort", "dir", "status", "q"]
QUERY_EXTREMES = ["0", "9223372036854775807", "18446744073709551615", "-9223372036854775809", "NaN", "nan",
                  "Infinity", "-Infinity", "inf", "1e308", "-1e308", "1e309", "1e22", "4.9e-324", "-0", "0x1p1023"]


def test_numeric_extremes_in_every_query_parameter(server, db, http):
    for route in READ_ROUTES:
        for name in QUERY_PARAMETERS:
            for value in QUERY_EXTREMES:
                response = http.get(server.base_url + route, params={name: value}, timeout=30)
                assert response.status_code in (200, 400), (route, name, value, response.status_code,
                                                            response.text[:300])
                assert server.is_alive(), (route, name, value, server.log(last_lines=30))
    for value in QUERY_EXTREMES:
        for route in ("/admin/observability/traces/", "/api/v1/traces/"):
            response = http.get(server.base_url + route + value, timeout=30)
            assert response.status_code in (400, 404), (route, value, response.status_code)
    assert_still_serving(server, db, http)

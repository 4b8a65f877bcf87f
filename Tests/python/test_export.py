"""Exports: one trace as OTLP/JSON, a filtered trace list as NDJSON and CSV.

The OTLP/JSON round trip uses the real OpenTelemetry Python SDK: a trace goes to one
service, is downloaded, and is sent to a second service with its own database; every
stored column of every span, and the trace row, must be the same in both, and the second
export the same document as the first. The list exports are compared with what the test
inserted, filtered in Python; the large export checks that memory does not follow the
number of traces.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from browser import ADMIN
from test_otel_sdk import RecordingExporter

MAX_LENGTH = 64
SPAN_COLUMNS = (
    "span_id, parent_span_id, name, kind, operation, target, service_name,"
    " observability.span_scope(scope_name, scope_id) AS scope_name, start_time, end_time, "
    "duration_ms, status, status_message, attributes,"
    " observability.span_resource(resource_attributes, resource_id) AS resource_attributes, events"
)


def emit_rich_trace(url: str) -> str:
    """A nested MCP trace with every kind of attribute value, an event, a value longer
    than the limit, a secret and an inferred error; returns its hex trace id."""
    exporter = RecordingExporter(OTLPSpanExporter(endpoint=url, timeout=30))
    provider = TracerProvider(resource=Resource.create({"service.name": "export-gateway", "deployment.region": "eu-1"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    tracer = provider.get_tracer("export-tests", "0.1")
    root = tracer.start_span(
        "POST /mcp", kind=SpanKind.SERVER,
        attributes={"http.request.method": "POST", "http.route": "/mcp", "http.response.status_code": 200,
                    "url.query": "api_key=hunter2&page=2"})
    in_root = set_span_in_context(root)
    tool = tracer.start_span(
        "tools/call search_docs", context=in_root, kind=SpanKind.SERVER,
        attributes={
            "mcp.method.name": "tools/call", "gen_ai.tool.name": "search_docs", "mcp.session.id": "s-1",
            "count": 42, "ratio": 0.25, "whole": 1.0, "huge": 1e20, "tiny": -5e-324, "flag": False,
            "tags": ["a", "b,c", "\"q\""], "sizes": [1, 2, 3], "weights": [0.5, 2.0], "long": "x" * 200,
            "password": "s3cr3t", "note": "<script>alert(1)</script>",
        })
    tool.add_event("retry", {"attempt": 2, "reason": "timeout", "backoff_ms": 12.5})
    db = tracer.start_span(
        "SELECT docs", context=set_span_in_context(tool), kind=SpanKind.CLIENT,
        attributes={"db.system.name": "postgresql", "db.query.text": "SELECT * FROM docs WHERE id = 7"})
    db.end()
    tool.set_status(Status(StatusCode.OK))
    tool.end()
    failing = tracer.start_span(
        "tools/call lookup", context=in_root,
        attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "lookup", "mcp.tool.is_error": True})
    failing.end()
    broken = tracer.start_span("tools/call flaky", context=in_root,
                               attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "flaky"})
    try:
        raise ValueError("upstream exploded")
    except ValueError as error:
        broken.record_exception(error)
        broken.set_status(Status(StatusCode.ERROR, "flaky failed"))
    broken.end()
    root.end()
    trace_id = format(root.get_span_context().trace_id, "032x")
    assert provider.force_flush(30_000)
    provider.shutdown()
    assert exporter.results and all(r == SpanExportResult.SUCCESS for r in exporter.results), exporter.results
    return trace_id


def stored_spans(db, trace_id: str) -> list[dict]:
    return db.rows(f"SELECT {SPAN_COLUMNS} FROM observability.spans WHERE trace_id = %s::uuid ORDER BY span_id",
                   trace_id)


def stored_trace(db, trace_id: str) -> dict:
    return db.one(
        "SELECT root_span_id, root_name, service_name, start_time, end_time, duration_ms, span_count, error_count, status "
        "FROM observability.traces WHERE trace_id = %s::uuid", trace_id)


def value_of(attributes: list[dict], key: str) -> dict:
    return next(a["value"] for a in attributes if a["key"] == key)


def test_a_trace_exported_and_sent_back_is_stored_the_same(make_database, start_server):
    first_db, second_db = make_database(), make_database()
    limit = {"OBSERVABILITY_MAX_ATTRIBUTE_LENGTH": str(MAX_LENGTH)}
    first = start_server(first_db, **limit)
    second = start_server(second_db, **limit)
    trace_id = emit_rich_trace(first.traces_url)

    answer = requests.get(f"{first.base_url}/api/v1/traces/{trace_id}/otlp", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"] == f'attachment; filename="trace-{trace_id}.otlp.json"'
    exported = answer.json()

    # The document itself: one resource, one scope, the five spans, typed values.
    [resource_spans] = exported["resourceSpans"]
    resource = {a["key"]: a["value"] for a in resource_spans["resource"]["attributes"]}
    assert resource["service.name"] == {"stringValue": "export-gateway"}
    assert resource["deployment.region"] == {"stringValue": "eu-1"}
    [scope_spans] = resource_spans["scopeSpans"]
    assert scope_spans["scope"] == {"name": "export-tests"}
    spans = {span["name"]: span for span in scope_spans["spans"]}
    assert set(spans) == {"POST /mcp", "tools/call search_docs", "SELECT docs", "tools/call lookup", "tools/call flaky"}
    assert all(span["traceId"] == trace_id for span in spans.values())
    root, tool = spans["POST /mcp"], spans["tools/call search_docs"]
    assert "parentSpanId" not in root and tool["parentSpanId"] == root["spanId"]
    assert spans["SELECT docs"]["parentSpanId"] == tool["spanId"]
    assert (root["kind"], tool["kind"], spans["SELECT docs"]["kind"], spans["tools/call lookup"]["kind"]) == (2, 2, 3, 1)
    attributes = tool["attributes"]
    assert value_of(attributes, "count") == {"intValue": "42"}
    assert value_of(attributes, "ratio") == {"doubleValue": 0.25}
    assert value_of(attributes, "whole") == {"doubleValue": 1.0}
    assert value_of(attributes, "huge") == {"doubleValue": 1e20}
    assert value_of(attributes, "flag") == {"boolValue": False}
    assert value_of(attributes, "tags") == {"arrayValue": {"values": [
        {"stringValue": "a"}, {"stringValue": "b,c"}, {"stringValue": "\"q\""}]}}
    assert value_of(attributes, "sizes") == {"arrayValue": {"values": [{"intValue": str(n)} for n in (1, 2, 3)]}}
    assert value_of(attributes, "password") == {"stringValue": "[REDACTED]"}
    long = value_of(attributes, "long")["stringValue"]
    assert long == "x" * MAX_LENGTH + f"…[truncated {200 - MAX_LENGTH} chars]"
    assert tool["status"] == {"code": 1}
    assert spans["tools/call flaky"]["status"] == {"code": 2, "message": "flaky failed"}
    assert spans["tools/call lookup"]["status"]["code"] == 2, "an inferred error is exported as an error"
    [event] = tool["events"]
    assert event["name"] == "retry"
    assert {a["key"]: a["value"] for a in event["attributes"]} == {
        "attempt": {"intValue": "2"}, "reason": {"stringValue": "timeout"}, "backoff_ms": {"doubleValue": 12.5}}
    for span in spans.values():
        start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
        assert 0 < start <= end

    # Sent to the second service, which stores it as the first did.
    posted = requests.post(second.traces_url, data=answer.content, headers={"Content-Type": "application/json"},
                           timeout=10)
    assert posted.status_code == 200, posted.text
    assert posted.json() == {}, "no span may be rejected: " + posted.text
    first_rows, second_rows = stored_spans(first_db, trace_id), stored_spans(second_db, trace_id)
    assert len(first_rows) == 5
    for before, after in zip(first_rows, second_rows, strict=True):
        assert before == after
    assert stored_trace(first_db, trace_id) == stored_trace(second_db, trace_id)

    again = requests.get(f"{second.base_url}/api/v1/traces/{trace_id}/otlp", timeout=10)
    assert again.json() == exported


def test_a_trace_export_refuses_bad_and_unknown_ids(server, http):
    assert http.get(f"{server.base_url}/api/v1/traces/{'ab' * 16}/otlp", timeout=5).status_code == 404
    bad = http.get(f"{server.base_url}/api/v1/traces/%3Cscript%3E/otlp", timeout=5)
    assert bad.status_code == 400 and "32 hexadecimal digits" in bad.json()["error"]
    assert bad.headers["content-type"] == "application/json"


# ---------- Trace list exports ----------

HOSTILE_NAMES = [
    "plain", "with, comma", 'with "quotes"', "line\nbreak", "=HYPERLINK(\"http://evil\")", "+1+2", "-3", "@SUM(A1)",
    "<script>alert(1)</script>", "ünïcødé ✓",
]


def insert_traces(db, count: int, now: datetime, name_bytes: int = 0, same_start_every: int = 7) -> list[dict]:
    """`count` traces straight into observability.traces (the export reads only that
    table unless a target is asked for), several sharing a start time so that paging
    must order by the id as well. Returns them as the export should write them."""
    rows = []
    for index in range(count):
        start = now - timedelta(minutes=30) + timedelta(milliseconds=(index // same_start_every) * 3, microseconds=index % 3)
        duration = timedelta(microseconds=1_000 + (index * 7919) % 900_000)
        name = HOSTILE_NAMES[index % len(HOSTILE_NAMES)] + (" " + "n" * name_bytes if name_bytes else "") + f" #{index}"
        rows.append({
            "trace_id": secrets.token_hex(16), "root_name": name, "service_name": f"svc-{index % 3}",
            "start": start, "end": start + duration, "span_count": 1 + index % 5, "error_count": 1 if index % 4 == 0 else 0,
        })
    with psycopg.connect(db.url, autocommit=True) as conn, conn.cursor() as cursor:
        with cursor.copy("COPY observability.traces (trace_id, root_name, service_name, start_time, end_time, "
                         "span_count, error_count) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row["trace_id"], row["root_name"], row["service_name"], row["start"], row["end"],
                                row["span_count"], row["error_count"]))
    for row in rows:
        row["duration_ms"] = (row["end"] - row["start"]) / timedelta(milliseconds=1)
        row["status"] = "error" if row["error_count"] else "ok"
    return rows


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def expected_lines(rows: list[dict]) -> list[dict]:
    ordered = sorted(rows, key=lambda r: (r["start"], r["trace_id"]), reverse=True)
    return [{
        "trace_id": r["trace_id"], "root_name": r["root_name"], "service_name": r["service_name"],
        "start_time": rfc3339(r["start"]), "end_time": rfc3339(r["end"]), "duration_ms": r["duration_ms"],
        "span_count": r["span_count"], "error_count": r["error_count"], "status": r["status"],
    } for r in ordered]


@pytest.fixture(scope="module")
def listed(make_database, start_server):
    """A database holding 4,500 hand-made traces (three export pages) and its server."""
    db = make_database()
    rows = insert_traces(db, 4_500, datetime.now(timezone.utc))
    return db, start_server(db), rows


def read_ndjson(server, query: str) -> list[dict]:
    answer = requests.get(f"{server.base_url}/api/v1/traces.ndjson?{query}", timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert answer.text.endswith("\n") or answer.text == ""
    return [json.loads(line) for line in answer.text.splitlines()]


@pytest.mark.parametrize("query, keep", [
    ("window=1h", lambda r: True),
    ("window=1h&status=error", lambda r: r["status"] == "error"),
    ("window=1h&status=ok&min_ms=500", lambda r: r["status"] == "ok" and r["duration_ms"] >= 500),
    ("window=1h&q=%2C+comma", lambda r: ", comma" in r["root_name"]),
    ("window=1h&service=svc-2&q=%23", lambda r: r["service_name"] == "svc-2" and "#" in r["root_name"]),
])
def test_ndjson_export_is_every_matching_trace_in_order(listed, query, keep):
    _, server, rows = listed
    expected = expected_lines([r for r in rows if keep(r)])
    assert len(expected) > 0
    got = read_ndjson(server, query)
    assert [line["trace_id"] for line in got] == [line["trace_id"] for line in expected]
    for line, want in zip(got, expected):
        assert line.pop("duration_ms") == pytest.approx(want.pop("duration_ms"))
        assert line == want


def test_csv_export_quotes_and_defuses_names(listed):
    _, server, rows = listed
    answer = requests.get(f"{server.base_url}/api/v1/traces.csv?window=1h", timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == 'attachment; filename="traces.csv"'
    table = list(csv.reader(io.StringIO(answer.text, newline="")))
    assert table[0] == ["trace_id", "root_name", "service_name", "start_time", "end_time", "duration_ms", "span_count",
                        "error_count", "status"]
    expected = expected_lines(rows)
    assert len(table) - 1 == len(expected)
    for record, want in zip(table[1:], expected):
        name = want["root_name"]
        if name[0] in "=+-@":
            name = "'" + name
        assert record[0] == want["trace_id"] and record[1] == name and record[2] == want["service_name"]
        assert record[3:5] == [want["start_time"], want["end_time"]]
        assert float(record[5]) == pytest.approx(want["duration_ms"])
        assert record[6:] == [str(want["span_count"]), str(want["error_count"]), want["status"]]
    assert not any(record[1][:1] in ("=", "+", "-", "@") for record in table[1:])


def test_export_with_a_target_reads_the_spans(make_database, start_server):
    server = start_server(make_database())
    now_ns = time.time_ns()
    wanted = []
    for index in range(3):
        trace = secrets.token_hex(16)
        tool = "export_probe" if index < 2 else "other_tool"
        answer = requests.post(server.spans_url, json={"spans": [{
            "trace_id": trace, "span_id": secrets.token_hex(8), "name": f"tools/call {tool}", "kind": "server",
            "service_name": "mcp-gateway", "start_time": now_ns - index * 1_000_000, "duration_ms": 5,
            "attributes": {"mcp.method.name": "tools/call", "gen_ai.tool.name": tool}}]}, timeout=10)
        assert answer.status_code == 200, answer.text
        if index < 2:
            wanted.append(trace)
    got = read_ndjson(server, "window=1h&operation=tool_invoke&target=export_probe")
    assert [line["trace_id"] for line in got] == wanted


def test_export_refuses_a_bad_filter(listed):
    _, server, _ = listed
    answer = requests.get(f"{server.base_url}/api/v1/traces.csv?window=9y", timeout=10)
    assert answer.status_code == 400
    assert "window must be one of" in answer.json()["error"]


def test_a_large_export_is_streamed_not_held(make_database, start_server):
    """100,000 traces with 600-byte names (about 70 MB of NDJSON): the server's peak RSS
    may not grow by more than 40 MiB while it writes them."""
    db = make_database()
    count = 100_000
    db.execute(
        "INSERT INTO observability.traces (trace_id, root_name, service_name, start_time, end_time, span_count, "
        "error_count) SELECT gen_random_uuid(), repeat('n', 600) || ' #' || i, 'bulk', "
        "now() - interval '20 minutes' + i * interval '1 millisecond', "
        "now() - interval '20 minutes' + i * interval '1 millisecond' + interval '5 ms', 1, 0 "
        "FROM generate_series(1, %s) i", count)
    server = start_server(db)
    requests.get(f"{server.base_url}/api/v1/traces.ndjson?window=1h&q=%230", timeout=60).raise_for_status()  # warm
    before = server.memory_kib("VmHWM")
    lines = 0
    received = 0
    with requests.get(f"{server.base_url}/api/v1/traces.ndjson?window=1h", stream=True, timeout=120) as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            received += len(line)
            lines += 1
    after = server.memory_kib("VmHWM")
    assert lines == count
    assert received > 60_000_000
    assert after - before < 40 * 1024, f"peak RSS grew by {(after - before) / 1024:.1f} MiB"


# ---------- In the browser ----------


def test_the_pages_offer_the_downloads(listed, browse):
    db, server, rows = listed
    page, watch = browse(server.base_url, accept_downloads=True)
    page.goto(f"{ADMIN}/traces?window=1h&status=error&limit=20")
    ndjson = page.locator("#export-ndjson")
    assert ndjson.get_attribute("href") == "/api/v1/traces.ndjson?window=1h&status=error"
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    table = list(csv.reader(open(info.value.path(), newline="", encoding="utf-8")))
    assert len(table) - 1 == sum(1 for r in rows if r["status"] == "error")
    watch.assert_clean()

    # A trace with spans, for a trace page.
    now_ns = time.time_ns()
    trace_id = secrets.token_hex(16)
    requests.post(server.spans_url, json={"spans": [{
        "trace_id": trace_id, "span_id": secrets.token_hex(8), "name": "tools/call <b>x</b>", "kind": "server",
        "service_name": "mcp-gateway", "start_time": now_ns, "duration_ms": 3,
        "attributes": {"mcp.method.name": "tools/call", "gen_ai.tool.name": "<b>x</b>"}}]}, timeout=10).raise_for_status()
    page.goto(f"{ADMIN}/traces/{trace_id}")
    with page.expect_download() as info:
        page.locator("#export-otlp").click()
    assert info.value.suggested_filename == f"trace-{trace_id}.otlp.json"
    document = json.load(open(info.value.path(), encoding="utf-8"))
    assert document == requests.get(f"{server.base_url}/api/v1/traces/{trace_id}/otlp", timeout=10).json()
    watch.assert_clean()

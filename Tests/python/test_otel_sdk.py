"""The real OpenTelemetry Python SDK exporting to the service, read back from PostgreSQL.

One MCP-gateway-shaped trace (HTTP server root, tool call, SQL query, prompt, resource,
a failing tool with a recorded exception, a tool whose result says isError) goes through
the protobuf exporter (plain and gzip) and the JSON exporter; each time the stored rows
must show the same parents, classification, errors, events and redaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter as JSONSpanExporter
from opentelemetry.exporter.otlp.common.http import Compression as JSONCompression
from opentelemetry.exporter.otlp.proto.http import Compression as ProtoCompression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as ProtoSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from payloads import span_id, trace_id, signed_span_id

SQL_TEXT = "SELECT id, name FROM users WHERE email = 'alice@example.com' AND age > 4711"
SQL_STRIPPED = "SELECT id, name FROM users WHERE email = ? AND age > ?"


class RecordingExporter(SpanExporter):
    """Passes spans to a real exporter and keeps each export's result, so the test
    knows the SDK's own view of whether the service accepted them."""

    def __init__(self, inner: SpanExporter):
        self.inner = inner
        self.results: list[SpanExportResult] = []

    def export(self, spans):
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def make_exporter(kind: str, url: str) -> SpanExporter:
    if kind == "protobuf":
        return ProtoSpanExporter(endpoint=url, timeout=30)
    if kind == "protobuf-gzip":
        return ProtoSpanExporter(endpoint=url, timeout=30, compression=ProtoCompression.Gzip)
    if kind == "json":
        return JSONSpanExporter(endpoint=url, timeout=30, compression=JSONCompression.NONE)
    raise ValueError(kind)


def emit_mcp_trace(exporter: RecordingExporter, service: str) -> dict:
    """Records the trace through the SDK and returns the hex ids of its spans by role."""
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": "1.2.3"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    tracer = provider.get_tracer("mcp-gateway-tests", "0.1")
    ids = {}

    def remember(role, span):
        ids[role] = format(span.get_span_context().span_id, "016x")

    root = tracer.start_span(
        "POST /mcp",
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "POST",
            "http.route": "/mcp",
            "url.path": "/mcp",
            "http.response.status_code": 200,
            "http.request.header.authorization": ["Bearer sk-live-0123456789abcdef"],
            "url.query": "api_key=hunter2&page=2",
        },
    )
    remember("root", root)
    ids["trace"] = format(root.get_span_context().trace_id, "032x")
    in_root = set_span_in_context(root)

    tool = tracer.start_span(
        "tools/call get_weather",
        context=in_root,
        kind=SpanKind.SERVER,
        attributes={
            "mcp.method.name": "tools/call",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.operation.name": "execute_tool",
            "mcp.session.id": "session-42",
            "jsonrpc.request.id": "7",
            "mcp.protocol.version": "2025-06-18",
        },
    )
    remember("tool", tool)
    db = tracer.start_span(
        "SELECT users",
        context=set_span_in_context(tool),
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": "postgresql",
            "db.query.text": SQL_TEXT,
            "db.namespace": "app",
            "server.address": "127.0.0.1",
            "db.connection_string": "postgres://app:s3cr3t-pw@db.internal:5432/app",
        },
    )
    remember("db", db)
    db.end()
    tool.set_status(Status(StatusCode.OK))
    tool.end()

    prompt = tracer.start_span(
        "prompts/get summarize", context=in_root,
        attributes={"mcp.method.name": "prompts/get", "gen_ai.prompt.name": "summarize"})
    remember("prompt", prompt)
    prompt.end()

    resource = tracer.start_span(
        "resources/read file:///docs/readme.md", context=in_root,
        attributes={"mcp.method.name": "resources/read", "mcp.resource.uri": "file:///docs/readme.md"})
    remember("resource", resource)
    resource.end()

    failing = tracer.start_span(
        "tools/call flaky_tool", context=in_root,
        attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "flaky_tool"})
    remember("failing", failing)
    try:
        raise ValueError("upstream exploded")
    except ValueError as error:
        failing.record_exception(error)
        failing.set_status(Status(StatusCode.ERROR, "flaky tool failed"))
    failing.end()

    is_error = tracer.start_span(
        "tools/call lookup", context=in_root,
        attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "lookup", "mcp.tool.is_error": True})
    remember("is_error", is_error)
    is_error.set_status(Status(StatusCode.OK))
    is_error.end()

    root.end()
    assert provider.force_flush(30_000), "force_flush timed out"
    provider.shutdown()
    return ids


@pytest.mark.parametrize("exporter_kind", ["protobuf", "protobuf-gzip", "json"])
def test_sdk_export_is_stored_classified_and_redacted(exporter_kind, server, db):
    service = f"weather-mcp-{exporter_kind}"
    exporter = RecordingExporter(make_exporter(exporter_kind, server.traces_url))
    ids = emit_mcp_trace(exporter, service)
    assert exporter.results and all(r == SpanExportResult.SUCCESS for r in exporter.results), exporter.results

    rows = db.rows("SELECT * FROM observability.span_list WHERE trace_id = %s", ids["trace"])
    by_id = {row["span_id"]: row for row in rows}
    assert set(by_id) == {ids[r] for r in ("root", "tool", "db", "prompt", "resource", "failing", "is_error")}
    span = {role: by_id[ids[role]] for role in ids if role != "trace"}

    # Ids: hex views match the SDK; the raw bigint holds the same 8 bytes, signed.
    raw = db.rows(
        "SELECT span_id, parent_span_id FROM observability.spans WHERE trace_id = %s::uuid", ids["trace"])
    assert sorted(r["span_id"] for r in raw) == sorted(signed_span_id(bytes.fromhex(h)) for h in by_id)

    # Parents.
    assert span["root"]["parent_span_id"] is None
    for role in ("tool", "prompt", "resource", "failing", "is_error"):
        assert span[role]["parent_span_id"] == ids["root"], role
    assert span["db"]["parent_span_id"] == ids["tool"]

    # SpanOperation, target, kind.
    expected = {
        "root": ("http_request", "POST /mcp", "server"),
        "tool": ("tool_invoke", "get_weather", "server"),
        "db": ("db_query", "SELECT", "client"),
        "prompt": ("prompt_render", "summarize", "internal"),
        "resource": ("resource_fetch", "file:///docs/readme.md", "internal"),
        "failing": ("tool_invoke", "flaky_tool", "internal"),
        "is_error": ("tool_invoke", "lookup", "internal"),
    }
    assert {r: (span[r]["operation"], span[r]["target"], span[r]["kind"]) for r in expected} == expected

    # Statuses: an explicit ERROR, and an OK span whose tool result says isError.
    assert {r: span[r]["status"] for r in expected} == {
        "root": "unset", "tool": "ok", "db": "unset", "prompt": "unset", "resource": "unset",
        "failing": "error", "is_error": "error",
    }
    assert span["failing"]["status_message"] == "flaky tool failed"
    assert span["is_error"]["status_message"], "an inferred error should say why"

    # Exception event, through the span_events view.
    events = db.rows(
        "SELECT name, exception_type, exception_message, exception_stacktrace FROM observability.span_events "
        "WHERE trace_id = %s", ids["trace"])
    assert len(events) == 1, events
    event = events[0]
    assert event["name"] == "exception"
    assert event["exception_type"] == "ValueError"
    assert event["exception_message"] == "upstream exploded"
    assert "Traceback" in event["exception_stacktrace"] and "upstream exploded" in event["exception_stacktrace"]

    # Redaction: header, secret query parameter, connection-string password, SQL literals.
    root_attrs = span["root"]["attributes"]
    assert root_attrs["http.request.header.authorization"] == "[REDACTED]"
    assert root_attrs["url.query"] == "api_key=[REDACTED]&page=2"
    assert root_attrs["http.response.status_code"] == 200
    db_attrs = span["db"]["attributes"]
    assert db_attrs["db.query.text"] == SQL_STRIPPED
    assert db_attrs["db.connection_string"] == "postgres://app:[REDACTED]@db.internal:5432/app"
    stored_text = json.dumps([r["attributes"] for r in rows] + [r["resource_attributes"] for r in rows])
    for secret in ("sk-live-0123456789abcdef", "hunter2", "s3cr3t-pw", "alice@example.com", "4711"):
        assert secret not in stored_text, secret
    assert span["tool"]["attributes"]["mcp.session.id"] == "session-42"
    assert span["is_error"]["attributes"]["mcp.tool.is_error"] is True

    # Resource and scope.
    for row in rows:
        assert row["service_name"] == service
        assert row["resource_attributes"]["service.name"] == service
        assert row["resource_attributes"]["service.version"] == "1.2.3"
        assert row["resource_attributes"]["telemetry.sdk.language"] == "python"
    assert db.scalar(
        "SELECT array_agg(DISTINCT observability.span_scope(scope_name, scope_id)) FROM observability.spans "
        "WHERE trace_id = %s::uuid", ids["trace"]
    ) == ["mcp-gateway-tests"]

    # Durations are consistent with the times.
    for row in rows:
        assert row["end_time"] >= row["start_time"]
        measured = (row["end_time"] - row["start_time"]).total_seconds() * 1000
        assert abs(row["duration_ms"] - measured) < 0.01

    # The traces row.
    trace = db.one("SELECT * FROM observability.traces WHERE trace_id = %s::uuid", ids["trace"])
    assert trace is not None
    assert trace["span_count"] == 7
    assert trace["error_count"] == 2
    assert trace["status"] == "error"
    assert trace["root_name"] == "POST /mcp"
    assert trace["service_name"] == service
    assert trace["root_span_id"] == signed_span_id(bytes.fromhex(ids["root"]))
    assert trace["start_time"] == min(r["start_time"] for r in rows)
    assert trace["end_time"] == max(r["end_time"] for r in rows)


def test_native_json_endpoint_with_rfc3339_and_epoch_times(server, db, http):
    tid, root, child, grandchild = trace_id(), span_id(), span_id(), span_id()
    # Whole microseconds, so PostgreSQL's precision keeps them exactly.
    base = datetime.now(timezone.utc).replace(microsecond=123456)
    base_ns = int(base.timestamp()) * 1_000_000_000 + 123_456_000
    plus_two = timezone(timedelta(hours=2))
    body = {
        "service_name": "native-gateway",
        "resource": {"deployment.environment": "test", "host.name": "box-1"},
        "spans": [
            {   # RFC 3339 in UTC with nanoseconds, end by duration.
                "trace_id": tid.hex(), "span_id": root.hex(), "parent_span_id": None,
                "name": "tool.invoke", "kind": "server",
                "start_time": base.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z",
                "duration_ms": 250,
                "status": "ok",
                "attributes": {"tool.name": "search", "user.id": 17, "api_key": "abc123", "token_count": 12},
            },
            {   # RFC 3339 with an offset, other service.
                "trace_id": tid.hex(), "span_id": child.hex(), "parent_span_id": root.hex(),
                "name": "prompt.render", "kind": "internal", "service_name": "native-renderer",
                "start_time": (base + timedelta(milliseconds=10)).astimezone(plus_two).isoformat(),
                "end_time": (base + timedelta(milliseconds=60)).astimezone(plus_two).isoformat(),
                "status": "error", "status_message": "template missing",
                "attributes": {"prompt.id": "greeting"},
                "events": [{"name": "exception",
                            "time": (base + timedelta(milliseconds=50)).isoformat().replace("+00:00", "Z"),
                            "attributes": {"exception.type": "KeyError", "exception.message": "name"}}],
            },
            {   # Epoch nanoseconds as integers.
                "trace_id": tid.hex(), "span_id": grandchild.hex(), "parent_span_id": child.hex(),
                "name": "resource.read", "kind": "client",
                "start_time": base_ns + 20_000_000, "end_time": base_ns + 30_500_000,
                "attributes": {"resource.uri": "db://customers/7"},
            },
        ],
    }
    response = http.post(server.spans_url, json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 3, "rejected": 0, "dropped": 0, "errors": []}

    rows = db.rows(
        "SELECT s.*, (extract(epoch FROM start_time) * 1e6)::bigint AS start_us, "
        "(extract(epoch FROM end_time) * 1e6)::bigint AS end_us "
        "FROM observability.span_list s WHERE trace_id = %s", tid.hex())
    span = {row["span_id"]: row for row in rows}
    assert set(span) == {root.hex(), child.hex(), grandchild.hex()}
    base_us = base_ns // 1000

    r = span[root.hex()]
    assert (r["start_us"], r["end_us"]) == (base_us, base_us + 250_000)
    assert r["duration_ms"] == pytest.approx(250.0)
    assert (r["operation"], r["target"], r["kind"], r["status"]) == ("tool_invoke", "search", "server", "ok")
    assert r["parent_span_id"] is None
    assert r["service_name"] == "native-gateway"
    assert r["attributes"] == {"tool.name": "search", "user.id": 17, "api_key": "[REDACTED]", "token_count": 12}
    assert r["resource_attributes"]["host.name"] == "box-1"

    c = span[child.hex()]
    assert (c["start_us"], c["end_us"]) == (base_us + 10_000, base_us + 60_000)
    assert (c["operation"], c["target"], c["status"], c["status_message"]) == (
        "prompt_render", "greeting", "error", "template missing")
    assert c["service_name"] == "native-renderer"
    assert c["parent_span_id"] == root.hex()
    assert [e["name"] for e in c["events"]] == ["exception"]
    event = db.one("SELECT exception_type, exception_message, event_time FROM observability.span_events "
                   "WHERE trace_id = %s", tid.hex())
    assert (event["exception_type"], event["exception_message"]) == ("KeyError", "name")
    assert event["event_time"] == base + timedelta(milliseconds=50)

    g = span[grandchild.hex()]
    assert (g["start_us"], g["end_us"]) == (base_us + 20_000, base_us + 30_500)
    assert g["duration_ms"] == pytest.approx(10.5)
    assert (g["operation"], g["target"], g["kind"], g["status"]) == (
        "resource_fetch", "db://customers/7", "client", "unset")
    assert g["parent_span_id"] == child.hex()

    trace = db.one("SELECT * FROM observability.traces WHERE trace_id = %s::uuid", tid.hex())
    assert (trace["span_count"], trace["error_count"], trace["status"]) == (3, 1, "error")
    assert (trace["root_name"], trace["service_name"]) == ("tool.invoke", "native-gateway")
    assert trace["duration_ms"] == pytest.approx(250.0)

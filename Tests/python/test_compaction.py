"""Compaction of closed days (migration 0018) on spans from the real OpenTelemetry SDK.

A nested MCP trace dated the day before yesterday goes through the service; then its
day's partition is rewritten by `observatory maintenance run-once`, in a separate
process, as an operator's cron would run it. Every stored column of every span, the
trace API's spans and the OTLP/JSON export must read the same before and after, and the
day must hold no inline resource afterwards.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, set_span_in_context

from harness import clean_environment, run_observatory
from selfspans import maintenance_log, wait_for
from test_export import SPAN_COLUMNS
from test_otel_sdk import RecordingExporter


def emit_trace_of_a_closed_day(url: str) -> tuple[str, str]:
    """A gateway trace with a tool call and a database span, started at noon UTC the day
    before yesterday; returns its hex trace id and its day's partition name. Not
    yesterday: a day is due for compaction only an hour after it ends
    (span_partitions_to_compact()), and CI once ran this test at 00:21 UTC."""
    noon = (datetime.now(timezone.utc) - timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    base = int(noon.timestamp() * 1e9)
    exporter = RecordingExporter(OTLPSpanExporter(endpoint=url, timeout=30))
    provider = TracerProvider(resource=Resource.create(
        {"service.name": "compaction-gateway", "service.version": "3.1.4", "host.name": "gw-1"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    tracer = provider.get_tracer("compaction-tests", "0.1")
    root = tracer.start_span("POST /mcp", kind=SpanKind.SERVER, start_time=base,
                             attributes={"http.request.method": "POST", "http.route": "/mcp"})
    tool = tracer.start_span("tools/call search_docs", context=set_span_in_context(root), kind=SpanKind.SERVER,
                             start_time=base + 1_000_000,
                             attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": "search_docs"})
    tool.add_event("retry", {"attempt": 2}, timestamp=base + 2_000_000)
    db = tracer.start_span("SELECT docs", context=set_span_in_context(tool), kind=SpanKind.CLIENT,
                           start_time=base + 3_000_000,
                           attributes={"db.system.name": "postgresql", "db.query.text": "SELECT 1"})
    db.end(end_time=base + 9_000_000)
    tool.end(end_time=base + 12_000_000)
    root.end(end_time=base + 15_000_000)
    assert provider.force_flush(30_000)
    provider.shutdown()
    assert exporter.results and all(r == SpanExportResult.SUCCESS for r in exporter.results), exporter.results
    return format(root.get_span_context().trace_id, "032x"), "spans_p" + noon.strftime("%Y%m%d")


def read_back(db, server, trace_id: str) -> tuple[list[dict], list[dict], dict]:
    """The trace's stored rows, the trace API's spans and its OTLP/JSON export."""
    rows = db.rows(f"SELECT {SPAN_COLUMNS} FROM observability.spans WHERE trace_id = %s::uuid ORDER BY span_id",
                   trace_id)
    api = requests.get(f"{server.base_url}/api/v1/traces/{trace_id}", timeout=10)
    assert api.status_code == 200, api.text
    otlp = requests.get(f"{server.base_url}/api/v1/traces/{trace_id}/otlp", timeout=10)
    assert otlp.status_code == 200, otlp.text
    return rows, api.json()["spans"], otlp.json()


def test_a_compacted_day_reads_back_the_same(make_database, start_server):
    db = make_database()
    # The service creates partitions from yesterday on; the day before needs its own.
    db.execute("SELECT observability.ensure_partitions(2, 0)")
    server = start_server(db)
    # The service compacts due days when it starts, and then once an hour: its first run
    # must be over before the day is made due again below, or it may rewrite the day
    # meanwhile (CI once saw it do so at 03:06 UTC) and leave run-once nothing to do.
    wait_for(lambda: maintenance_log(db, "compaction"), "the service's first compaction run", 30)
    trace_id, day = emit_trace_of_a_closed_day(server.traces_url)
    rows, api_spans, otlp = read_back(db, server, trace_id)
    assert len(rows) == 3 and len(api_spans) == 3
    assert all(r["resource_attributes"]["host.name"] == "gw-1" for r in rows), rows

    # The service's first run may have compacted the day's partition before the trace
    # arrived; forgetting that makes the day due again. Rows are made inline, as a store
    # from before 0018 holds them (resource) and from before 0020 (scope), so that the
    # rewrite also moves them out.
    db.execute("DELETE FROM observability_internal.compacted_span_partitions")
    db.execute(f"UPDATE observability.{day} SET resource_attributes = observability.span_resource(NULL, resource_id), "
               "resource_id = NULL, scope_name = observability.span_scope(NULL, scope_id), scope_id = NULL")
    assert db.scalar(f"SELECT count(*) FROM observability.{day} "
                     "WHERE resource_id IS NULL AND scope_id IS NULL AND scope_name IS NOT NULL") == 3
    assert read_back(db, server, trace_id) == (rows, api_spans, otlp)

    result = run_observatory("maintenance", "run-once",
                             env=clean_environment(OBSERVABILITY_DATABASE_URL=db.url), timeout=60)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("compaction "))
    assert re.match(r"compaction ok \d+ ms partitions_compacted=[1-4] spans=\d+ bytes_before=\d+ bytes_after=\d+$",
                    line), line

    assert db.scalar("SELECT span_count FROM observability_internal.compacted_span_partitions "
                     "WHERE partition_name = %s", day) == 3
    assert db.scalar(f"SELECT count(*) FROM observability.{day} WHERE resource_attributes IS NULL "
                     "AND resource_id IS NOT NULL AND scope_name IS NULL AND scope_id IS NOT NULL") == 3
    assert read_back(db, server, trace_id) == (rows, api_spans, otlp)

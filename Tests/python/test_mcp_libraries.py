"""Real MCP libraries from PyPI against the service: one server process and one client
process per library (each in its own virtual environment, made by scripts/mcp-venvs.sh),
talking streamable HTTP and exporting OTLP/HTTP protobuf to a fresh `observatory serve`.
After the run, `assemble_calls()` and `refresh_metrics()` are called directly and the stored
requests and metrics are compared with the manifest the client printed (what it called, how
often, which calls failed by design), never with numbers repeated here.

What each library makes knowable, read from its captured spans (Tests/fixtures/mcp/), and
so what is asserted for it:

- fastmcp (4.2, native) and mcp_sdk (2.3, native): CLIENT and SERVER spans carrying the
  method and target, the server span parented on the client's `MCP send` span through
  `params._meta`. Asserted: per tool, prompt and resource, the request count and the error
  count (explode and refuse always fail, and the missing resource); every request linked
  (client_span_id and server_span_id), server_name the server's service name and
  client_name the client's. mcp_sdk names no resource URI in any span (neither side), so
  its reads are asserted together, under target NULL.
- logfire (5.4, mcp 1.30): INTERNAL spans only, but the context does propagate (the server
  span is a child of the client span, same trace); the target is in the client span's name
  (tools) or in the `request` JSON, and tool failures only in the `response` JSON
  (`"isError": true`). Asserted: the same counts, errors and links as above.
- openllmetry (0.62, mcp 1.30): the client has one span per request (`<tool>.tool`,
  `prompts/get.mcp`, `resources/read.mcp`, the prompt name or URI inside
  `traceloop.entity.input`); the server has only `ResponseStreamWriter` spans without
  method or target, and no context crosses streamable HTTP (every span its own trace).
  Asserted: counts and errors per target (from the client side), each request counted
  once; no link and no server name (nothing in the spans says which server was called).
- openinference (2.0, mcp 1.30): the instrumentor only propagates context; the spans are
  the application's own (OITracer): TOOL spans on both sides, linked through the trace,
  and CHAIN spans for prompts and resources, which OpenInference has no kind for.
  Asserted: tools only: counts, errors (refuse's server span stays ok; the request fails
  because the client side failed), links and names.

Everywhere: no counted request of a scenario method has a target outside the manifest (so
nothing is counted twice under another name), and the service's own spans
(`mcp-observatory`) appear in no metric.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests

import mcp_live
from harness import Database, Server

SELF_SERVICE = "mcp-observatory"
METRIC_VIEWS = {"tools/call": ("tool_metrics", "tool_name"), "prompts/get": ("prompt_metrics", "prompt_name"),
                "resources/read": ("resource_metrics", "resource_uri")}


@dataclass(frozen=True)
class Expectations:
    """What a library's spans make knowable (see the module docstring)."""

    methods: tuple[str, ...] = ("tools/call", "prompts/get", "resources/read")
    linked: bool = True
    server_named: bool = True
    # Methods whose target no span names: their requests are expected under target NULL.
    untargeted: tuple[str, ...] = ()


EXPECTATIONS = {
    "fastmcp": Expectations(),
    "mcp_sdk": Expectations(untargeted=("resources/read",)),
    "logfire": Expectations(),
    "openllmetry": Expectations(linked=False, server_named=False),
    "openinference": Expectations(methods=("tools/call",)),
}
assert set(EXPECTATIONS) == set(mcp_live.LIBRARIES), "every library needs its expectations"


@dataclass
class Observed:
    library: mcp_live.Library
    expectations: Expectations
    manifest: dict
    database: Database
    server: Server
    requests: list[dict] = field(default_factory=list)

    def expected(self) -> list[dict]:
        """The manifest's entries of the methods this library makes knowable; those of an
        untargeted method summed into one entry with target None."""
        merged: dict[tuple, dict] = {}
        for call in self.manifest["calls"]:
            if call["method"] not in self.expectations.methods:
                continue
            target = None if call["method"] in self.expectations.untargeted else call["target"]
            entry = merged.setdefault((call["method"], target), {"method": call["method"], "target": target,
                                                                 "calls": 0, "expected_failures": 0})
            entry["calls"] += call["calls"]
            entry["expected_failures"] += call["expected_failures"]
        return list(merged.values())


def wait_for_spans(database: Database, services: list[str], timeout: float = 30.0, quiet: float = 1.0) -> int:
    """Waits until spans of `services` are stored and their count has not changed for `quiet` s."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = database.scalar("SELECT count(*) FROM observability.spans WHERE service_name = ANY(%s)", services)
        if count != last:
            last, since = count, time.monotonic()
        elif count > 0 and time.monotonic() - since >= quiet:
            return count
        time.sleep(0.1)
    raise AssertionError(f"spans of {services} did not settle within {timeout} s (last count {last})")


@pytest.fixture(scope="module", params=sorted(mcp_live.LIBRARIES))
def observed(request, make_database, start_server) -> Observed:
    library = mcp_live.LIBRARIES[request.param]
    try:
        mcp_live.check_venv(library)
    except mcp_live.EnvironmentMissing as error:
        pytest.fail(str(error), pytrace=False)
    database = make_database()
    server = start_server(database)
    run = mcp_live.run_scenario(library, server.traces_url)
    wait_for_spans(database, [library.server_service, library.client_service])
    database.rows("SELECT * FROM observability.assemble_calls(p_now => now() + interval '1 minute', "
                  "p_settle => interval '0')")
    database.rows("SELECT * FROM observability.refresh_metrics(p_force => true)")
    result = Observed(library, EXPECTATIONS[library.key], run.manifest, database, server)
    result.requests = database.rows(
        "SELECT c.*, r.overhead_ms FROM observability.calls c "
        "JOIN observability.mcp_requests r USING (trace_id, method) "
        "WHERE c.counted AND r.client_span_id IS NOT DISTINCT FROM c.client_span_id "
        "AND r.server_span_id IS NOT DISTINCT FROM c.server_span_id")
    return result


def describe(rows: list[dict]) -> str:
    keys = ("method", "target", "side", "service_name", "server_name", "client_name", "status", "request_status",
            "client_span_id", "server_span_id")
    return "\n".join(str({k: row.get(k) for k in keys}) for row in rows[:60])


def test_manifest_outcomes_are_the_scenario(observed):
    """The client saw exactly the failures the scenario builds in (else nothing below means much)."""
    for call in observed.manifest["calls"]:
        assert call["observed_failures"] == call["expected_failures"], call
    assert any(c["expected_failures"] for c in observed.expected()), "the scenario must contain failures"


def test_each_request_counted_once_per_target(observed):
    requests_by_target = Counter((r["method"], r["target"]) for r in observed.requests
                                 if r["method"] in observed.expectations.methods)
    expected = {(c["method"], c["target"]): c["calls"] for c in observed.expected()}
    assert dict(requests_by_target) == expected, describe(observed.requests)


def test_errors_per_target(observed):
    errors = Counter((r["method"], r["target"]) for r in observed.requests
                     if r["method"] in observed.expectations.methods and r["request_status"] == "error")
    expected = {(c["method"], c["target"]): c["expected_failures"] for c in observed.expected()
                if c["expected_failures"]}
    assert dict(errors) == expected, describe(observed.requests)


def test_sides_linked_and_named(observed):
    rows = [r for r in observed.requests if r["method"] in observed.expectations.methods]
    assert rows
    library = observed.library
    for row in rows:
        if observed.expectations.linked:
            assert row["client_span_id"] is not None and row["server_span_id"] is not None, describe([row])
            assert row["client_name"] == library.client_service, describe([row])
        if observed.expectations.server_named:
            assert row["server_name"] == library.server_service, describe([row])
    if not observed.expectations.linked:
        # Nothing crosses the wire: the only side recorded with a method is the client's.
        assert all(r["side"] == "client" and r["service_name"] == library.client_service for r in rows), describe(rows)


@pytest.mark.parametrize("window", ["1h", "30d"])
def test_metric_views_count_requests_and_errors(observed, window):
    """1h is exact; 30d is merged from digests (0012) and must count the same requests."""
    for method in observed.expectations.methods:
        view, name_column = METRIC_VIEWS[method]
        rows = observed.database.rows(
            f"SELECT server_name, {name_column} AS target, request_count, error_count "
            f"FROM observability.{view} WHERE time_window = %s", window)
        counts, errors, servers = Counter(), Counter(), set()
        for row in rows:
            # The metric views show an unknown target as '' (calls has NULL).
            counts[row["target"] or None] += row["request_count"]
            errors[row["target"] or None] += row["error_count"]
            servers.add(row["server_name"])
        expected = [c for c in observed.expected() if c["method"] == method]
        assert dict(counts) == {c["target"]: c["calls"] for c in expected}, rows
        assert {t: n for t, n in errors.items() if n} == {c["target"]: c["expected_failures"] for c in expected
                                                          if c["expected_failures"]}, rows
        assert SELF_SERVICE not in servers, rows
        if observed.expectations.server_named:
            assert servers == {observed.library.server_service}, rows


def test_merged_window_percentiles_within_one_percent(observed):
    """The 30-day figures of the same requests: PERCENTILE_CONT's within 1 % (0012)."""
    for method in observed.expectations.methods:
        view, name_column = METRIC_VIEWS[method]
        columns = ["p50_ms", "p90_ms", "p95_ms", "p99_ms", "client_p50_ms", "client_p95_ms", "client_p99_ms"]
        rows = observed.database.rows(
            f"SELECT time_window, server_name, {name_column} AS target, {', '.join(columns)} "
            f"FROM observability.{view} WHERE time_window IN ('1h', '30d')")
        exact = {(r["server_name"], r["target"]): r for r in rows if r["time_window"] == "1h"}
        merged = {(r["server_name"], r["target"]): r for r in rows if r["time_window"] == "30d"}
        assert exact and exact.keys() == merged.keys(), rows
        for key, row in exact.items():
            for column in columns:
                want, got = row[column], merged[key][column]
                assert (want is None) == (got is None), (key, column, want, got)
                if want:
                    assert abs(got - want) <= 0.01 * want, (key, column, want, got)


def test_tools_api_counts(observed, http):
    response = http.get(observed.server.base_url + "/api/v1/metrics/tools", params={"window": "1h", "limit": 100},
                        timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    counts, errors = Counter(), Counter()
    for row in body.get("rows", []):
        assert row.get("server") != SELF_SERVICE, row
        counts[row["target"] or None] += row["request_count"]
        errors[row["target"] or None] += row["error_count"]
    tools = [c for c in observed.expected() if c["method"] == "tools/call"]
    assert dict(counts) == {c["target"]: c["calls"] for c in tools}, body
    assert {t: n for t, n in errors.items() if n} == {c["target"]: c["expected_failures"] for c in tools
                                                      if c["expected_failures"]}, body


def test_service_never_in_metrics(observed):
    assert observed.database.scalar(
        "SELECT count(*) FROM observability.operation_metrics WHERE server = %s", SELF_SERVICE) == 0
    assert observed.database.scalar(
        "SELECT count(*) FROM observability.calls WHERE %s IN (service_name, server_name, client_name)",
        SELF_SERVICE) == 0

"""Percentile rank on every span: the trace page and its JSON say where each span's
duration falls among its target's over the last 24 hours.

Populations of known durations are sent for a tool, an HTTP route and a database
operation, spread over the previous day's hours, and a trace whose spans belong to those
groups. The durations are 5 % apart (the digests' buckets are 2 % wide), so no two share a
bucket and the rank must equal the exact mid-rank computed here from the durations sent:
100 * (shorter + equal / 2) / total, the trace's own span included.
"""

from __future__ import annotations

import time

import requests

from browser import ADMIN, MS, Tree, new_span_id, new_trace_id, send_spans

HOUR_NS = 3_600 * 1_000_000_000
HOSTILE = '<img src=x onerror="window.__pwned=1">'


def mid_rank(population: list[float], value: float) -> float:
    shorter = sum(1 for d in population if d < value)
    equal = sum(1 for d in population if d == value)
    return 100.0 * (shorter + equal / 2) / len(population)


def lone(trace_start_ns: int, name: str, duration_ms: float, **extra) -> dict:
    return {
        "trace_id": new_trace_id(), "span_id": new_span_id(), "name": name, "service_name": "mcp-gateway",
        "start_time": trace_start_ns, "duration_ms": duration_ms, **extra,
    }


def tool_attributes(tool: str) -> dict:
    return {"mcp.method.name": "tools/call", "gen_ai.tool.name": tool}


HTTP = {"http.request.method": "GET", "http.route": "/search"}
DB = {"db.system.name": "postgresql", "db.operation.name": "SELECT"}


def roll_up_and_rank(db) -> None:
    """Assembles every trace's calls, rolls every hour of the last two days up again and
    rebuilds the rank histograms, as the rollup job does."""
    assert db.rows("SELECT ran FROM observability.assemble_calls(p_settle => interval '0', p_max_traces => NULL)")[0]["ran"]
    db.execute("UPDATE observability_internal.rollup_state SET rolled_until = now() - interval '2 days' WHERE name = 'metrics'")
    assert db.rows("SELECT ran FROM observability_internal.rollup_metrics()")[0]["ran"]
    db.scalar("SELECT observability_internal.refresh_rank_histograms()")


def test_each_span_shows_its_rank_among_its_targets_last_24_hours(db, start_server, browse):
    # No maintenance of the service's own: the test rolls up when its data is in.
    server = start_server(db, OBSERVABILITY_METRICS_ENABLED="false")
    now_ns = time.time_ns()
    # Start times 2 to 20 hours back: inside the 24 whole hours before the current hour.
    def at(index: int, count: int) -> int:
        return now_ns - 2 * HOUR_NS - int(index * 18 * HOUR_NS / count)

    tools = [10.0 * 1.05**i for i in range(40)]
    routes = [5.0 * 1.05**i for i in range(60)]
    queries = [1.0 * 1.05**i for i in range(20)]
    population = [lone(at(i, 40), "tools/call rank_tool", d, kind="server", attributes=tool_attributes("rank_tool"))
                  for i, d in enumerate(tools)]
    population += [lone(at(i, 60), "GET /search", d, kind="server", attributes=HTTP) for i, d in enumerate(routes)]
    population += [lone(at(i, 20), "SELECT", d, kind="client", attributes=DB) for i, d in enumerate(queries)]
    send_spans(server, population)

    # The trace: an HTTP request slower than every other of its route (p99+), a tool call
    # between the 37th and 38th of 40 (p90+), a query in the middle, and a hostile tool
    # that has only itself to be ranked against.
    tool_ms = 10.0 * 1.05**36.5
    route_ms = 5.0 * 1.05**61
    query_ms = 1.0 * 1.05**9.5
    tree = Tree(now_ns - 3 * HOUR_NS, service="mcp-gateway")
    tree.add("http", "GET /search", 0, route_ms, kind="server", attributes=HTTP)
    tree.add("tool", "tools/call rank_tool", 1, 1 + tool_ms, parent="http", kind="server",
             attributes=tool_attributes("rank_tool"))
    tree.add("query", "SELECT", 2, 2 + query_ms, parent="tool", kind="client", attributes=DB)
    tree.add("hostile", f"tools/call {HOSTILE}", 400, 410, parent="http", kind="server",
             attributes=tool_attributes(HOSTILE))
    send_spans(server, tree.spans)

    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/traces/{tree.trace_id}")
    assert "No span of this trace has a percentile rank" in page.locator("#rank-notice").inner_text()
    assert page.locator("#span-table .rank").count() == 0

    roll_up_and_rank(db)
    expected = {
        "http": (mid_rank(routes + [route_ms], route_ms), 61, "extreme", "http_request", "GET /search"),
        "tool": (mid_rank(tools + [tool_ms], tool_ms), 41, "high", "tool_invoke", "rank_tool"),
        "query": (mid_rank(queries + [query_ms], query_ms), 21, "ordinary", "db_query", "SELECT"),
        "hostile": (50.0, 1, "ordinary", "tool_invoke", HOSTILE),
    }
    assert expected["http"][0] >= 99 and 90 <= expected["tool"][0] < 99 and expected["query"][0] < 90

    answer = requests.get(f"{server.base_url}/api/v1/traces/{tree.trace_id}", timeout=10).json()
    ranks = {tree.key_of(span["span_id"]): span.get("rank") for span in answer["trace"]["spans"]}
    for key, (percentile, count, band, operation, target) in expected.items():
        rank = ranks[key]
        assert rank is not None, key
        assert abs(rank["percentile"] - percentile) < 1e-9, (key, rank, percentile)
        assert rank["low"] <= percentile <= rank["high"], (key, rank)
        assert (rank["sample_count"], rank["band"], rank["operation"], rank["target"]) == (count, band, operation, target)
        assert rank["label"] == f"p{int(percentile)}"
    assert ranks["tool"]["server"] == "mcp-gateway" and ranks["tool"]["side"] == "server"

    page.goto(f"{ADMIN}/traces/{tree.trace_id}")
    notice = page.locator("#rank-notice").inner_text()
    assert notice.startswith("pNN beside a duration") and " UTC to " in notice
    for key, (percentile, count, band, _, _) in expected.items():
        badge = page.locator(f"#span-{tree.ids[key]} .rank")
        assert badge.inner_text() == f"p{int(percentile)}", key
        assert float(badge.get_attribute("data-percentile")) == round(percentile, 2), key
        classes = badge.get_attribute("class").split()
        assert classes == ["rank", f"rank-{band}"], (key, classes)
        assert f"of {count:,} durations of" in badge.get_attribute("title"), key
    # The hostile name is text in the title, not markup.
    assert HOSTILE in page.locator(f"#span-{tree.ids['hostile']} .rank").get_attribute("title")
    colours = page.evaluate(
        """ids => ids.map(id => getComputedStyle(document.querySelector('#span-' + id + ' .rank')).backgroundColor)""",
        [tree.ids["http"], tree.ids["tool"], tree.ids["query"]])
    assert colours[0] != colours[1] and colours[2] == "rgba(0, 0, 0, 0)", colours

    # The Gantt chart: the label beside the bar and the tooltip.
    bar = page.locator(f".gantt-bar[data-span-id='{tree.ids['tool']}']")
    label = bar.locator("xpath=following-sibling::span[contains(@class, 'gantt-bar-label')]")
    assert label.locator(".rank.rank-high").inner_text() == f"p{int(expected['tool'][0])}"
    bar.hover()
    tip = page.locator("#tooltip")
    assert f"rank: p{int(expected['tool'][0])} of 41 durations" in tip.inner_text()
    assert page.evaluate("window.__pwned") is None
    watch.assert_clean()


def test_a_late_trace_rebuilds_the_ranks_and_ranks_need_digests(db, start_server):
    server = start_server(db, OBSERVABILITY_METRICS_ENABLED="false")
    now_ns = time.time_ns()
    first = lone(now_ns - 5 * HOUR_NS, "tools/call late_tool", 100.0, kind="server",
                 attributes=tool_attributes("late_tool"))
    send_spans(server, [first])
    roll_up_and_rank(db)
    # Nothing changed: the fingerprint matches and nothing is rebuilt.
    assert db.scalar("SELECT observability_internal.refresh_rank_histograms()") is False
    rank = requests.get(f"{server.base_url}/api/v1/traces/{first['trace_id']}", timeout=10).json()["trace"]["spans"][0]
    assert (rank["rank"]["sample_count"], rank["rank"]["percentile"]) == (1, 50.0)

    # A faster request of the same tool arrives late, for an hour already ranked: that
    # hour's digest changes, and with it the fingerprint, so the histograms are rebuilt.
    second = lone(now_ns - 6 * HOUR_NS, "tools/call late_tool", 50.0, kind="server",
                  attributes=tool_attributes("late_tool"))
    send_spans(server, [second])
    assert db.rows("SELECT ran FROM observability.assemble_calls(p_settle => interval '0', p_max_traces => NULL)")[0]["ran"]
    db.execute("UPDATE observability_internal.rollup_state SET rolled_until = now() - interval '2 days' WHERE name = 'metrics'")
    assert db.rows("SELECT ran FROM observability_internal.rollup_metrics()")[0]["ran"]
    assert db.scalar("SELECT observability_internal.refresh_rank_histograms()") is True
    rank = requests.get(f"{server.base_url}/api/v1/traces/{first['trace_id']}", timeout=10).json()["trace"]["spans"][0]
    assert (rank["rank"]["sample_count"], rank["rank"]["percentile"]) == (2, 75.0)

    # A span of the current hour is not in the 24 whole hours: no rank until its hour is.
    fresh = lone(now_ns, "tools/call fresh_tool", 10.0, kind="server", attributes=tool_attributes("fresh_tool"))
    send_spans(server, [fresh])
    roll_up_and_rank(db)
    span = requests.get(f"{server.base_url}/api/v1/traces/{fresh['trace_id']}", timeout=10).json()["trace"]["spans"][0]
    assert "rank" not in span

"""Exemplars: each p50/p95/p99 of the tools page links to a real request at that rank,
and the summary's failure list to the failing requests.

Twenty requests of one tool with known durations (1 to 20 ms) and five of another; the
request a link lands on must be the one PERCENTILE_DISC picks, computed here from the
durations sent, and the figure the page shows must lie between it and the next.
"""

from __future__ import annotations

import math
import time

import requests

from browser import ADMIN, new_trace_id, refresh_metrics, send_spans, tool_span

MS = 1_000_000


def expected_rank(durations: list[float], fraction: float) -> float:
    """PERCENTILE_DISC: the first duration whose cumulative share reaches `fraction`."""
    ordered = sorted(durations)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def test_percentile_links_land_on_the_request_at_that_rank(db, start_server, browse):
    server = start_server(db)
    now_ns = time.time_ns()
    durations = {}
    spans = []
    for index in range(20):
        trace = new_trace_id()
        durations[trace] = float(index + 1)
        spans.append(tool_span(trace, "exemplar_tool", now_ns - (index + 1) * 60 * 1_000 * MS, duration_ms=index + 1))
    for index in range(5):
        spans.append(tool_span(new_trace_id(), "other_tool", now_ns - index * MS, duration_ms=500))
    send_spans(server, spans)
    refresh_metrics(db)

    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/tools?window=1h")
    row = page.locator("#metrics-table tbody tr", has_text="exemplar_tool")
    links = row.locator("a.exemplar")
    assert links.count() == 3
    shown_p95 = float(row.locator("td").nth(5).get_attribute("data-value"))
    for index, (percentile, fraction) in enumerate([(50, 0.5), (95, 0.95), (99, 0.99)]):
        page.goto(f"{ADMIN}/tools?window=1h")
        link = page.locator("#metrics-table tbody tr", has_text="exemplar_tool").locator("a.exemplar").nth(index)
        assert f"p={percentile}" in link.get_attribute("href")
        link.click()
        page.wait_for_load_state()
        trace_id, _, span = page.url.split("/traces/")[1].partition("#span-")
        assert durations[trace_id] == expected_rank(list(durations.values()), fraction), (percentile, trace_id)
        assert page.locator(f"#span-{span}").count() == 1
    # PERCENTILE_CONT's p95 lies between the p95 request and the next one.
    assert expected_rank(list(durations.values()), 0.95) <= shown_p95 <= 20

    # The latency chart marks each tool's p95; clicking the marker opens the same request.
    page.goto(f"{ADMIN}/tools?window=1h")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-latency'))")
    marker = page.evaluate(
        """name => {
            const chart = Chart.getChart(document.getElementById('chart-latency'));
            const index = chart.data.labels.indexOf(name);
            const point = chart.getDatasetMeta(1).data[index];
            return {x: point.x, y: point.y, value: chart.data.datasets[1].data[index], label: chart.data.datasets[1].label};
        }""", "exemplar_tool")
    assert marker["label"] == "p95" and marker["value"] == shown_p95
    box = page.locator("#chart-latency").bounding_box()
    page.mouse.click(box["x"] + marker["x"], box["y"] + marker["y"])
    page.wait_for_url("**/traces/**")
    trace_id = page.url.split("/traces/")[1].partition("#span-")[0]
    assert durations[trace_id] == expected_rank(list(durations.values()), 0.95)
    watch.assert_clean()

    answer = requests.get(
        f"{server.base_url}/api/v1/exemplar",
        params={"operation": "tool_invoke", "server": "mcp-gateway", "target": "exemplar_tool", "window": "1h", "p": "95"},
        timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["rank"], body["total"], body["percentile"], body["duration_ms"]) == (19, 20, 95, 19.0)
    assert durations[body["trace_id"]] == 19.0


def test_exemplar_links_refuse_what_they_cannot_answer(server):
    base = f"{server.base_url}/api/v1/exemplar"
    common = {"server": "mcp-gateway", "window": "1h", "p": "95"}
    http_row = requests.get(base, params={**common, "operation": "http_request", "target": "GET /"}, timeout=10)
    assert http_row.status_code == 400 and "operation must be" in http_row.json()["error"]
    odd = requests.get(base, params={**common, "operation": "tool_invoke", "target": "x", "p": "97"}, timeout=10)
    assert odd.status_code == 400 and "p must be one of" in odd.json()["error"]
    unknown = requests.get(base, params={**common, "operation": "tool_invoke", "target": "never_called"}, timeout=10)
    assert unknown.status_code == 404
    page = requests.get(f"{server.base_url}{ADMIN}/exemplar",
                        params={**common, "operation": "tool_invoke", "target": "<b>never</b>"}, timeout=10)
    assert page.status_code == 404 and "<b>never</b>" not in page.text and "&lt;b&gt;never&lt;/b&gt;" in page.text


def test_the_summary_failure_list_leads_to_the_failing_requests(make_database, start_server, browse):
    db = make_database()
    server = start_server(db)
    now_ns = time.time_ns()
    failing = set()
    spans = []
    for index in range(6):
        trace = new_trace_id()
        if index % 2 == 0:
            failing.add(trace)
        spans.append(tool_span(trace, "flaky_tool", now_ns - (index + 1) * 1_000 * MS, error=index % 2 == 0))
    send_spans(server, spans)
    refresh_metrics(db)
    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/metrics?window=1h")
    row = page.locator("tr[data-href]", has_text="flaky_tool").first
    href = row.get_attribute("data-href")
    assert "status=error" in href and "target=flaky_tool" in href
    row.click()
    page.wait_for_load_state()
    listed = set(page.locator("#trace-table a.trace-id").all_inner_texts())
    assert listed == failing
    watch.assert_clean()

"""Very large traces against the built binary (issue 9, item 7): a root with 50,000
sequential children, and a 20,000-span trace both deep and wide (a chain 10,000 deep and
9,999 sequential children under one root). The JSON API answers every span in
bounded time, the page answers a bounded outline in bounded time, /healthz stays
responsive while three views of a large trace are computed, and in Chromium the page is
usable quickly with a bounded DOM, says what it left out, and draws at most its limits.

Before the fix the layout was quadratic: the 50,000-child trace took 48 s (API) and 51 s
(page) on a release build, three views of a 20,000-span trace held /healthz for 10.7 s,
and Chromium needed 90 s and a million DOM nodes for the page.

The time bounds below hold for a debug build on a shared 2-core machine (the suite runs
the debug binary); docs/performance.md ("Very large traces") has the measured times.
"""

from __future__ import annotations

import json
import re
import threading
import time
from types import SimpleNamespace

import pytest
import requests
from playwright.sync_api import expect

from browser import ADMIN, MS, new_span_id, new_trace_id

S = 1_000_000_000
WIDE_CHILDREN = 50_000
#: The mixed trace: the root, a chain of CHAIN spans, then SEQUENTIAL children.
CHAIN = 10_000
SEQUENTIAL = 9_999
MIXED_SPANS = 1 + CHAIN + SEQUENTIAL
#: Spans per ingest request: the default batch size, so each request is one round trip.
CHUNK = 5_000
#: Children of the wide trace's root that fail: the summary row must count them.
FAILED_CHILDREN = (10_000, 40_000)

# Bounds for the debug binary the suite runs, on this 2-core machine shared with other
# builds (docs/performance.md, "Very large traces"). In a debug build PostgresNIO's row
# decoding is about 80 % of a view's CPU (perf): 50,000 spans took 8-26 s for the API
# and 5-21 s for the page under that load, and well under a second of it is the layout.
# The quadratic layout alone needed 48.6 s for 16,000 children (about 8 minutes for
# 50,000) in the same build, so these bounds still tell linear from quadratic.
#: GET /api/v1/traces/{id} of the 50,000-child trace, every span in the answer.
API_SECONDS = 60.0
#: GET of the trace page (bounded outline and one page of the table).
PAGE_SECONDS = 60.0
#: Longest /healthz answer while three views of the 20,000-span trace run: 1.2 s
#: measured; 6.5 s when the views ran on the shared pool, over 30 s before the fix.
HEALTHZ_SECONDS = 3.0
#: Chromium's own work: from the page's answer to charts drawn and a script that
#: answers (the server's time is PAGE_SECONDS). Was 90 s.
BROWSER_SECONDS = 10.0
#: Elements of the whole page. The page's limits allow about 500 table rows of at most
#: ~20 elements, 1,000 Gantt rows of ~8 and 1,000 flame nodes: about 19,000; the old page
#: had a million.
DOM_NODES = 25_000


def post_chunks(server, spans: list[dict]) -> None:
    with requests.Session() as http:
        for start in range(0, len(spans), CHUNK):
            chunk = spans[start:start + CHUNK]
            answer = http.post(server.spans_url, json={"spans": chunk}, timeout=120)
            assert answer.status_code == 200, answer.text
            assert answer.json()["accepted"] == len(chunk), answer.text


def wide_trace(start_ns: int) -> SimpleNamespace:
    """A root 50 s long and 50,000 children of 1 ms each, one after another."""
    trace_id = new_trace_id()
    root = new_span_id()
    spans = [{
        "trace_id": trace_id, "span_id": root, "name": "nightly batch", "service_name": "batch", "kind": "server",
        "start_time": start_ns, "end_time": start_ns + WIDE_CHILDREN * MS,
    }]
    children = []
    for index in range(WIDE_CHILDREN):
        span_id = new_span_id()
        children.append(span_id)
        span = {
            "trace_id": trace_id, "span_id": span_id, "parent_span_id": root, "name": f"item {index}",
            "service_name": "batch", "start_time": start_ns + index * MS, "end_time": start_ns + (index + 1) * MS,
        }
        if index in FAILED_CHILDREN:
            span.update(status="error", status_message="item failed")
        spans.append(span)
    return SimpleNamespace(trace_id=trace_id, root=root, children=children, spans=spans)


def mixed_trace(start_ns: int) -> SimpleNamespace:
    """20,000 spans under one root 19,999 ms long: first a chain of 10,000 spans over
    0–10,000 ms, each the only child of the one before and inside it, then 9,999 children
    of the root of 1 ms each, one after another."""
    trace_id = new_trace_id()
    root = new_span_id()
    chain = [new_span_id() for _ in range(CHAIN)]
    sequential = [new_span_id() for _ in range(SEQUENTIAL)]
    spans = [{
        "trace_id": trace_id, "span_id": root, "name": "agent run", "service_name": "agent", "kind": "server",
        "start_time": start_ns, "end_time": start_ns + (CHAIN + SEQUENTIAL) * MS,
    }]
    for depth, span_id in enumerate(chain):
        spans.append({
            "trace_id": trace_id, "span_id": span_id, "parent_span_id": chain[depth - 1] if depth else root,
            "name": f"level {depth}", "service_name": "agent",
            "start_time": start_ns + depth * MS // 2, "end_time": start_ns + CHAIN * MS - depth * MS // 2,
        })
    for index, span_id in enumerate(sequential):
        start = start_ns + (CHAIN + index) * MS
        spans.append({
            "trace_id": trace_id, "span_id": span_id, "parent_span_id": root, "name": f"step {index}",
            "service_name": "agent", "start_time": start, "end_time": start + MS,
        })
    return SimpleNamespace(trace_id=trace_id, root=root, chain=chain, sequential=sequential, spans=spans,
                           ids=[root, *chain, *sequential])


@pytest.fixture(scope="module")
def big(db, start_server):
    server = start_server(db)
    now = time.time_ns()
    wide = wide_trace(now - 20 * 60 * S)
    mixed = mixed_trace(now - 10 * 60 * S)
    post_chunks(server, wide.spans)
    post_chunks(server, mixed.spans)
    return SimpleNamespace(server=server, wide=wide, mixed=mixed)


def timed_get(server, path: str, timeout: float, **params) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = requests.get(server.base_url + path, params=params, timeout=timeout)
    return answer, time.monotonic() - started


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', html, re.S)
    assert found, "the page embeds no trace data"
    return json.loads(found.group(1))


# ---------- Server ----------


def test_api_answers_every_span_of_the_wide_trace_in_bounded_time(big):
    answer, seconds = timed_get(big.server, f"/api/v1/traces/{big.wide.trace_id}", API_SECONDS * 2)
    assert answer.status_code == 200, answer.text[:500]
    assert seconds < API_SECONDS, f"the API took {seconds:.1f} s for {WIDE_CHILDREN + 1} spans"
    body = answer.json()
    layout = body["trace"]["spans"]
    assert len(layout) == len(body["spans"]) == WIDE_CHILDREN + 1
    assert body["trace"]["span_count"] == WIDE_CHILDREN + 1
    # Tree order: the root, then its children by start time.
    assert [s["span_id"] for s in layout] == [big.wide.root, *big.wide.children]
    assert [s["depth"] for s in layout[:3]] == [0, 1, 1]
    # Back to back, each child ended when the next began: the root waited for all of them.
    assert all(s["critical"] for s in layout)
    assert big.server.healthy()


def test_api_answers_the_deep_and_wide_trace(big):
    answer, seconds = timed_get(big.server, f"/api/v1/traces/{big.mixed.trace_id}", API_SECONDS * 2)
    assert answer.status_code == 200, answer.text[:500]
    assert seconds < API_SECONDS, f"the API took {seconds:.1f} s for {MIXED_SPANS} spans"
    layout = answer.json()["trace"]["spans"]
    # Tree order: the root, the chain (it starts first), then the sequential children.
    assert [s["span_id"] for s in layout] == big.mixed.ids
    assert [s["depth"] for s in layout] == [0, *range(1, CHAIN + 1), *[1] * SEQUENTIAL]
    # The root waited for the steps one after another, and before them for the chain.
    assert all(s["critical"] for s in layout)


@pytest.mark.parametrize("which", ["wide", "mixed"])
def test_page_answers_a_bounded_outline_in_bounded_time(big, which):
    trace = getattr(big, which)
    total = len(trace.spans)
    answer, seconds = timed_get(big.server, f"{ADMIN}/traces/{trace.trace_id}", PAGE_SECONDS * 2)
    assert answer.status_code == 200, answer.text[:500]
    assert seconds < PAGE_SECONDS, f"the page took {seconds:.1f} s for {total} spans"
    html = answer.text
    data = page_data(html)
    limits = data["limits"]
    assert data["span_count"] == total
    assert len(data["spans"]) + len(data["groups"]) <= limits["rows"]
    assert html.count('class="span-row') == limits["table_rows"]
    assert f"of {total:,}, in tree order" in html
    assert f"This trace has {total:,} spans" in html
    # Far below the old page (every span a table row with its details, all spans as JSON).
    assert len(answer.content) < 2_000_000, len(answer.content)


def test_the_summary_row_counts_what_the_wide_page_leaves_out(big):
    data = page_data(requests.get(f"{big.server.base_url}{ADMIN}/traces/{big.wide.trace_id}", timeout=60).text)
    siblings = data["limits"]["siblings"]
    assert [s["span_id"] for s in data["spans"]] == [big.wide.root, *big.wide.children[:siblings]]
    [group] = data["groups"]
    assert group["parent_span_id"] == big.wide.root
    assert group["children"] == group["spans"] == WIDE_CHILDREN - siblings
    assert group["errors"] == len(FAILED_CHILDREN)
    assert group["first_span_id"] == big.wide.children[siblings]


def test_later_pages_of_the_span_table(big):
    server, wide = big.server, big.wide
    answer = requests.get(f"{server.base_url}{ADMIN}/traces/{wide.trace_id}", params={"page": 3}, timeout=60)
    assert answer.status_code == 200
    per_page = page_data(answer.text)["limits"]["table_rows"]
    rows = re.findall(r'<tr id="span-([0-9a-f]+)" class="span-row', answer.text)
    # Tree order: the root is row 0, child i row i + 1.
    assert rows == wide.children[2 * per_page - 1:3 * per_page - 1]
    assert f"Showing spans {2 * per_page + 1:,}–{3 * per_page:,} of {WIDE_CHILDREN + 1:,}" in answer.text

    for bad in ["0", "-2", "two", "1e3", "99999999999999999999"]:
        answer = requests.get(f"{server.base_url}{ADMIN}/traces/{wide.trace_id}", params={"page": bad}, timeout=10)
        assert answer.status_code == 400, (bad, answer.status_code)
        assert "page must be a number from 1 to" in answer.text


def test_healthz_stays_responsive_while_three_views_run(big):
    server, mixed = big.server, big.mixed
    paths = [f"/api/v1/traces/{mixed.trace_id}", f"{ADMIN}/traces/{mixed.trace_id}", f"/api/v1/traces/{mixed.trace_id}"]
    statuses: list[int] = []
    done = threading.Event()

    def view(path: str) -> None:
        try:
            statuses.append(requests.get(server.base_url + path, timeout=120).status_code)
        except requests.RequestException as error:
            statuses.append(-1)
            print(f"{path}: {error}")

    threads = [threading.Thread(target=view, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    waits: list[float] = []
    with requests.Session() as http:
        while any(thread.is_alive() for thread in threads):
            started = time.monotonic()
            assert http.get(server.base_url + "/healthz", timeout=30).status_code == 200
            waits.append(time.monotonic() - started)
            time.sleep(0.05)
    for thread in threads:
        thread.join()
    done.set()
    assert statuses == [200, 200, 200]
    assert waits, "the views finished before /healthz was asked"
    assert max(waits) < HEALTHZ_SECONDS, f"/healthz took up to {max(waits):.2f} s ({len(waits)} requests)"
    assert server.is_alive() and server.healthy()


# ---------- Chromium ----------


def open_trace(page, trace_id: str, query: str = "") -> float:
    """Navigates to the trace page; seconds from its answer until its charts are drawn and
    it answers a script."""
    answer = page.goto(f"{ADMIN}/traces/{trace_id}{query}", wait_until="commit",
                       timeout=(PAGE_SECONDS + BROWSER_SECONDS) * 2 * 1000)
    started = time.monotonic()
    assert answer.status == 200
    page.wait_for_selector("#gantt .gantt-row", timeout=BROWSER_SECONDS * 3 * 1000)
    page.wait_for_selector("#flame .flame-node", timeout=BROWSER_SECONDS * 3 * 1000)
    page.evaluate("() => document.body.offsetHeight")  # a layout, and the main thread answers
    return time.monotonic() - started


def drawn(page) -> dict:
    return page.evaluate("""() => ({
        nodes: document.getElementsByTagName('*').length,
        ganttRows: document.querySelectorAll('#gantt .gantt-row').length,
        ganttSpans: document.querySelectorAll('#gantt .gantt-row[data-span-id]').length,
        flameNodes: document.querySelectorAll('#flame .flame-node').length,
        tableRows: document.querySelectorAll('#span-table tr.span-row').length,
        limits: JSON.parse(document.getElementById('trace-data').textContent).limits,
    })""")


def test_wide_trace_page_is_usable_in_chromium(big, browse):
    page, watch = browse(big.server.base_url)
    seconds = open_trace(page, big.wide.trace_id)
    assert seconds < BROWSER_SECONDS, f"the page took {seconds:.1f} s to draw"
    counts = drawn(page)
    limits = counts["limits"]
    assert counts["nodes"] < DOM_NODES, counts
    assert counts["ganttRows"] <= limits["rows"] and counts["flameNodes"] <= limits["rows"], counts
    assert counts["ganttSpans"] == limits["siblings"] + 1, counts
    assert counts["tableRows"] == limits["table_rows"], counts

    per_page = limits["table_rows"]
    expect(page.locator("#span-table-notice")).to_be_visible()
    expect(page.locator("#span-table-notice")).to_contain_text(f"Showing spans 1–{per_page:,} of {WIDE_CHILDREN + 1:,}")
    expect(page.locator("#trace-drawing-notice")).to_be_visible()
    expect(page.locator("#trace-drawing-notice")).to_contain_text(f"This trace has {WIDE_CHILDREN + 1:,} spans")
    hidden = WIDE_CHILDREN - limits["siblings"]
    summary = page.locator("#gantt .gantt-group")
    expect(summary).to_have_count(1)
    expect(summary).to_contain_text(f"\u2026 {hidden:,} more children of nightly batch, 2 failed")
    expect(page.locator("#flame .flame-group")).to_have_count(1)
    expect(page.locator("#flame .flame-summary")).to_contain_text(f"{WIDE_CHILDREN + 1:,} spans ({limits['siblings'] + 1} drawn)")

    # A drawn span's bar finds its row on this page of the table.
    child = big.wide.children[3]
    page.locator(f'#gantt .gantt-bar[data-span-id="{child}"]').click()
    expect(page.locator(f"#span-{child}")).to_have_class(re.compile(r"\bhighlight\b"))
    # Collapsing the root hides its drawn children and the summary row, in one pass.
    root_toggle = page.locator(f'#gantt .gantt-row[data-span-id="{big.wide.root}"] .gantt-toggle')
    root_toggle.click()
    expect(page.locator("#gantt .gantt-row:not([hidden])")).to_have_count(1)
    root_toggle.click()
    expect(summary).to_be_visible()
    watch.assert_clean()

    # The summary's link opens the table page listing the first child left out.
    first_hidden = big.wide.children[limits["siblings"]]
    summary.locator("a").click()
    page.wait_for_url(re.compile(rf"#span-{first_hidden}$"))
    expect(page.locator(f"#span-{first_hidden}")).to_be_visible()
    # And the table's pager moves on by one page of rows.
    open_trace(page, big.wide.trace_id)
    with page.expect_navigation(timeout=(PAGE_SECONDS + BROWSER_SECONDS) * 2 * 1000):
        page.locator("#span-table-pager a[rel=next]").click()
    expect(page.locator("#span-table tr.span-row").first).to_have_id(f"span-{big.wide.children[per_page - 1]}")
    expect(page.locator("#span-table-notice")).to_contain_text(f"Showing spans {per_page + 1:,}–{2 * per_page:,}")
    watch.assert_clean()


def test_deep_and_wide_trace_page_is_usable_in_chromium(big, browse):
    page, watch = browse(big.server.base_url)
    seconds = open_trace(page, big.mixed.trace_id)
    assert seconds < BROWSER_SECONDS, f"the page took {seconds:.1f} s to draw"
    counts = drawn(page)
    limits = counts["limits"]
    assert counts["nodes"] < DOM_NODES, counts
    # The root and the chain fill the rows; the last row counts the rest.
    assert counts["ganttRows"] == limits["rows"], counts
    assert counts["flameNodes"] <= limits["rows"], counts
    not_drawn = MIXED_SPANS - (limits["rows"] - 1)
    expect(page.locator("#gantt .gantt-group")).to_contain_text(f"\u2026 {not_drawn:,} more spans not drawn (row limit)")
    expect(page.locator("#trace-drawing-notice")).to_contain_text(f"the last row counts the {not_drawn:,} spans after that")
    # Collapsing the root hides a thousand nested rows, without recursion; the limit's
    # row belongs to no span and stays.
    root_toggle = page.locator(f'#gantt .gantt-row[data-span-id="{big.mixed.root}"] .gantt-toggle')
    root_toggle.click()
    expect(page.locator("#gantt .gantt-row:not([hidden])")).to_have_count(2)
    root_toggle.click()
    # A span drawn on the chart but listed on the table's second page: a click goes there.
    target = big.mixed.ids[limits["table_rows"] + 2]
    page.locator(f'#gantt .gantt-bar[data-span-id="{target}"]').click()
    page.wait_for_url(re.compile(rf"page=2#span-{target}$"), timeout=(PAGE_SECONDS + BROWSER_SECONDS) * 2 * 1000)
    expect(page.locator(f"#span-{target}")).to_be_visible()
    expect(page.locator(f"#span-{target}")).to_have_class(re.compile(r"\bhighlight\b"))
    watch.assert_clean()

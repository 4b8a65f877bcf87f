"""Trace comparison in a real browser: two hand-built traces with known differences (a
slower step, a loop of three queries against two, a span only in each) are aligned by
span path, and every figure on the page and in the JSON twin is checked against an
alignment computed here from the spans sent. The typical trace of a kind is checked
against medians computed here with `statistics.median`. The entry points (ticking two
traces in the list, the trace page's links) are followed by clicking; bad parameters get
precise 400s, unknown traces 404s, and hostile names stay text.
"""

from __future__ import annotations

import re
import statistics
import time
from types import SimpleNamespace

import pytest
import requests
from playwright.sync_api import expect

from browser import ADMIN, MS, Tree, new_trace_id, send_spans

S = 1_000_000_000
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_SERVICE = 'evil"><img src=x onerror=alert(2)>'


def tool(name: str) -> dict:
    return {"kind": "server", "attributes": {"mcp.method.name": "tools/call", "gen_ai.tool.name": name}}


def build_a(start_ns: int) -> Tree:
    tree = Tree(start_ns, service="shop")
    tree.add("root", "GET /checkout", 0, 100, kind="server")
    tree.add("auth", "auth", 0, 10, parent="root")
    tree.add("q1", "query", 11, 21, parent="root")
    tree.add("q2", "query", 22, 37, parent="root")
    tree.add("q3", "query", 38, 41, parent="root")
    tree.add("search", "tools/call", 42, 90, parent="root", **tool("search"))
    tree.add("fetch", "fetch", 45, 85, parent="search")
    tree.add("lookup", "tools/call", 91, 95, parent="root", **tool("lookup"))
    tree.add("hostile", HOSTILE_NAME, 96, 99, parent="root", service_name=HOSTILE_SERVICE)
    return tree


def build_b(start_ns: int) -> Tree:
    tree = Tree(start_ns, service="shop")
    tree.add("root", "GET /checkout", 0, 60, kind="server")
    tree.add("auth", "auth", 1, 6, parent="root")
    tree.add("q1", "query", 7, 12, parent="root")
    tree.add("q2", "query", 13, 19, parent="root")
    tree.add("search", "tools/call", 23, 50, parent="root", **tool("search"))
    tree.add("fetch", "fetch", 25, 45, parent="search")
    tree.add("cache", "cache", 52, 55, parent="root")
    tree.add("hostile", HOSTILE_NAME, 56, 58, parent="root", service_name=HOSTILE_SERVICE)
    return tree


def nodes(tree: Tree) -> dict[tuple, dict]:
    """Each span of `tree` by its aligned path: the chain of (service, name, target,
    ordinal among same-(service, name, target) siblings in start order) from the root."""
    by_id = {span["span_id"]: span for span in tree.spans}
    children: dict[str | None, list[dict]] = {}
    for span in tree.spans:
        children.setdefault(span.get("parent_span_id"), []).append(span)
    found: dict[tuple, dict] = {}

    def walk(parent_id, parent_path):
        seen: dict[tuple, int] = {}
        for span in sorted(children.get(parent_id, []), key=lambda s: s["start_time"]):
            target = (span.get("attributes") or {}).get("gen_ai.tool.name")
            key = (span.get("service_name", tree.service), span["name"], target)
            seen[key] = seen.get(key, 0) + 1
            path = parent_path + ((*key, seen[key]),)
            repeats = sum(1 for s in children[parent_id]
                          if (s.get("service_name", tree.service), s["name"],
                              (s.get("attributes") or {}).get("gen_ai.tool.name")) == key)
            found[path] = {
                "span_id": span["span_id"], "duration": (span["end_time"] - span["start_time"]) / MS,
                "offset": (span["start_time"] - tree.start_ns) / MS, "repeats": repeats,
            }
            walk(span["span_id"], path)

    assert all(s.get("parent_span_id") in by_id or s.get("parent_span_id") is None for s in tree.spans)
    walk(None, ())
    return found


def expected_rows(a: dict[tuple, dict], b: dict[tuple, dict]) -> list[tuple]:
    """The aligned rows in tree order: siblings by their earlier offset."""
    paths = set(a) | set(b)
    rows = []

    def walk(parent):
        kids = [p for p in paths if len(p) == len(parent) + 1 and p[:len(parent)] == parent]
        kids.sort(key=lambda p: min(x[p]["offset"] for x in (a, b) if p in x))
        for path in kids:
            rows.append(path)
            walk(path)

    walk(())
    return rows


@pytest.fixture(scope="module")
def shop(make_database, start_server):
    db = make_database()
    server = start_server(db)
    now = time.time_ns()
    a = build_a(now - 20 * 60 * S)
    b = build_b(now - 10 * 60 * S)
    send_spans(server, a.spans + b.spans)
    return SimpleNamespace(db=db, server=server, a=a, b=b)


def assert_inert(page, watch):
    assert page.locator("img").count() == 0
    assert watch.dialogs == []


def test_two_traces_align_with_known_differences(shop, browse):
    a_nodes, b_nodes = nodes(shop.a), nodes(shop.b)
    rows = expected_rows(a_nodes, b_nodes)
    assert len(rows) == 10  # 9 spans of A, 8 of B, 7 of them matched

    answer = requests.get(f"{shop.server.base_url}/api/v1/compare",
                          params={"a": shop.a.trace_id, "b": shop.b.trace_id}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(r["name"], r["service"], r["ordinal"], r["depth"]) for r in body["rows"]] == [
        (p[-1][1], p[-1][0], p[-1][3], len(p) - 1) for p in rows
    ]
    # The two tools/call spans differ in target only: two paths, not one.
    assert sorted(r["target"] for r in body["rows"] if r["name"] == "tools/call") == ["lookup", "search"]
    for path, row in zip(rows, body["rows"]):
        in_a, in_b = a_nodes.get(path), b_nodes.get(path)
        assert row["duration_a_ms"] == (in_a and pytest.approx(in_a["duration"])), path
        assert row["duration_b_ms"] == (in_b and pytest.approx(in_b["duration"])), path
        assert row["span_id_a"] == (in_a and in_a["span_id"]) and row["span_id_b"] == (in_b and in_b["span_id"])
        assert row["repeats_a"] == (in_a and in_a["repeats"]) and row["repeats_b"] == (in_b and in_b["repeats"])
        assert row["only"] == (None if in_a and in_b else "a" if in_a else "b")
        if in_a and in_b:
            difference = in_a["duration"] - in_b["duration"]
            assert row["difference_ms"] == pytest.approx(difference)
            assert row["difference_percent"] == pytest.approx(difference / in_b["duration"] * 100)
        else:
            assert row["difference_ms"] is None
    only = {r["name"]: r["only"] for r in body["rows"] if r["only"]}
    assert only == {"query": "a", "tools/call": "a", "cache": "b"}  # the third query, lookup, cache
    totals = body["totals"]
    assert (totals["matched"], totals["only_a"], totals["only_b"]) == (7, 2, 1)
    assert (totals["duration_a_ms"], totals["duration_b_ms"]) == (pytest.approx(100), pytest.approx(60))
    assert totals["difference_ms"] == pytest.approx(40)
    assert body["a"]["trace_id"] == shop.a.trace_id and body["b"]["trace_id"] == shop.b.trace_id
    assert body["typical"] is None

    page, watch = browse(shop.server.base_url)
    page.goto(f"{ADMIN}/compare?a={shop.a.trace_id}&b={shop.b.trace_id}")
    table_rows = page.locator("#compare-table tbody tr")
    expect(table_rows).to_have_count(len(rows))
    for index, path in enumerate(rows):
        row = table_rows.nth(index)
        in_a, in_b = a_nodes.get(path), b_nodes.get(path)
        expect(row.locator("td.name .indent")).to_have_text(path[-1][1])
        assert row.get_attribute("data-depth") == str(len(path) - 1)
        classes = row.get_attribute("class").split()
        assert ("only-a" in classes) == (in_b is None) and ("only-b" in classes) == (in_a is None), path
        for side, found in (("a", in_a), ("b", in_b)):
            cell = row.locator(f"td.dur-{side}")
            if found:
                assert float(cell.get_attribute("data-value")) == pytest.approx(found["duration"])
            else:
                expect(cell).to_have_text("–")
        diff = row.locator("td.diff")
        if in_a and in_b:
            assert float(diff.get_attribute("data-value")) == pytest.approx(in_a["duration"] - in_b["duration"])
        else:
            expect(diff).to_have_text("–")
    # The loop: three queries in A, two in B; the third is only in A and numbered.
    third = table_rows.filter(has=page.locator(".ordinal", has_text="#3"))
    expect(third).to_have_count(1)
    expect(third.locator("td.repeats")).to_have_text("×3 / –")
    expect(table_rows.filter(has=page.locator(".ordinal", has_text="#2")).locator("td.repeats")).to_have_text("×3 / ×2")
    # Highlighted: only-in-one rows have a background of their own.
    background = third.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    matched_background = table_rows.first.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    assert background != matched_background
    expect(page.locator("#total-a")).to_have_text("100 ms")
    expect(page.locator("#total-b")).to_have_text("60.0 ms")
    expect(page.locator("#total-difference")).to_have_text("+40.0 ms (+66.7 %)")
    expect(page.locator("#only-a-count")).to_have_text("2")
    expect(page.locator("#only-b-count")).to_have_text("1")
    # Hostile names are text.
    expect(page.locator("td.name .indent", has_text="<script>")).to_have_text(HOSTILE_NAME)
    expect(page.locator("td.name .sub", has_text="evil")).to_contain_text(HOSTILE_SERVICE)
    assert_inert(page, watch)

    # The critical path marks are the trace page's own.
    for side, tree in (("a", shop.a), ("b", shop.b)):
        marked = set()
        for index in range(len(rows)):
            cell = table_rows.nth(index).locator(f"td.dur-{side}")
            if cell.locator(".badge.critical").count():
                marked.add(cell.locator("a").get_attribute("href").rsplit("#span-", 1)[1])
        from_json = {r[f"span_id_{side}"] for r in body["rows"] if r[f"critical_{side}"]}
        trace_page, _ = browse(shop.server.base_url)
        trace_page.goto(f"{ADMIN}/traces/{tree.trace_id}")
        on_trace_page = {
            row.get_attribute("data-span-id") for row in trace_page.locator("tr.span-row.critical").all()
        }
        assert marked == on_trace_page == from_json and len(marked) >= 2, side
    watch.assert_clean()


def test_entry_points_lead_to_the_comparison(shop, browse):
    page, watch = browse(shop.server.base_url)
    page.goto(f"{ADMIN}/traces?window=1h&service=shop")
    boxes = page.locator("#trace-table input[type=checkbox][name=trace]")
    expect(boxes).to_have_count(2)
    # Ticking a box does not follow the row's link.
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert "/traces?" in page.url
    page.locator("#compare-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/compare\?"))
    # List order is newest first: B was sent as the newer trace.
    expect(page.locator("#side-a a.trace-id")).to_have_text(shop.b.trace_id)
    expect(page.locator("#side-b a.trace-id")).to_have_text(shop.a.trace_id)
    expect(page.locator("#compare-table tbody tr")).to_have_count(10)

    # Only one ticked: a precise 400.
    page.goto(f"{ADMIN}/traces?window=1h&service=shop")
    page.locator("#trace-table input[type=checkbox][name=trace]").first.check()
    watch.expected_failures.add(f"{shop.server.base_url}{ADMIN}/compare?trace={shop.b.trace_id}")
    with page.expect_navigation() as navigation:
        page.locator("#compare-form button[type=submit]").click()
    assert navigation.value.status == 400
    expect(page.locator(".notice")).to_contain_text("tick exactly two traces to compare (got 1)")

    # The trace page: "compare with…" another trace id, and "Compare with typical".
    page.goto(f"{ADMIN}/traces/{shop.a.trace_id}")
    page.locator("#compare-with input[name=b]").fill(shop.b.trace_id)
    page.locator("#compare-with button[type=submit]").click()
    page.wait_for_url(re.compile(r"/compare\?"))
    expect(page.locator("#side-a a.trace-id")).to_have_text(shop.a.trace_id)
    expect(page.locator("#side-b a.trace-id")).to_have_text(shop.b.trace_id)
    page.locator("#side-b a.trace-id").click()
    page.wait_for_url(re.compile(f"/traces/{shop.b.trace_id}$"))
    page.locator("#compare-typical").click()
    page.wait_for_url(re.compile(r"/compare\?.*typical=24h"))
    expect(page.locator("#typical-notice")).to_contain_text("over 1 trace (9 spans)")
    watch.assert_clean()


def test_typical_trace_is_the_median_of_its_kind(make_database, start_server, browse):
    db = make_database()
    server = start_server(db)
    now = time.time_ns()
    # Five traces of the kind with known durations; the second lacks "cache", the third
    # has two queries. Then the trace under study, slower in "query".
    shapes = [
        {"auth": 4, "query": [10], "cache": 3},
        {"auth": 6, "query": [12]},
        {"auth": 5, "query": [8, 20], "cache": 5},
        {"auth": 9, "query": [11], "cache": 4},
        {"auth": 7, "query": [13], "cache": 8},
    ]
    trees = []
    for index, shape in enumerate(shapes):
        tree = Tree(now - (30 - index) * 60 * S, service="shop")
        tree.add("root", "GET /checkout", 0, 100, kind="server")
        at = 0.0
        tree.add("auth", "auth", at, at + shape["auth"], parent="root")
        at += shape["auth"] + 1
        for n, duration in enumerate(shape["query"]):
            tree.add(f"q{n}", "query", at, at + duration, parent="root")
            at += duration + 1
        if "cache" in shape:
            tree.add("cache", "cache", at, at + shape["cache"], parent="root")
        trees.append(tree)
    slow = Tree(now - 60 * S, service="shop")
    slow.add("root", "GET /checkout", 0, 400, kind="server")
    slow.add("auth", "auth", 0, 5, parent="root")
    slow.add("q0", "query", 6, 306, parent="root")
    slow.add("cache", "cache", 307, 310, parent="root")
    # Another kind, which must not count.
    other = Tree(now - 120 * S, service="shop")
    other.add("root", "GET /other", 0, 9, kind="server")
    other.add("auth", "auth", 0, 1000, parent="root")
    send_spans(server, [span for tree in trees + [slow, other] for span in tree.spans])

    typical = {}
    for tree in trees:
        for path, found in nodes(tree).items():
            typical.setdefault(path, []).append(found["duration"])
    mine = nodes(slow)

    answer = requests.get(f"{server.base_url}/api/v1/compare", params={"a": slow.trace_id, "typical": "1h"}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["b"] is None
    assert body["typical"]["traces"] == 5 and body["typical"]["bounded"] is False
    assert body["typical"]["spans"] == sum(len(t.spans) for t in trees)
    assert body["typical"]["duration_ms"] == pytest.approx(100)
    by_name = {(r["name"], r["ordinal"]): r for r in body["rows"]}
    # A path this trace lacks and fewer than half of the typical trace's traces had (the
    # second query, in 1 of 5) is counted, not listed.
    rare = {p for p, durations in typical.items() if p not in mine and len(durations) * 2 < len(trees)}
    assert [p[-1][1:] for p in rare] == [("query", None, 2)]
    assert body["totals"]["rare_typical_paths"] == 1
    assert set(by_name) == {(p[-1][1], p[-1][3]) for p in (set(typical) | set(mine)) - rare}
    for path, durations in typical.items():
        if path in rare:
            continue
        row = by_name[(path[-1][1], path[-1][3])]
        assert row["duration_b_ms"] == pytest.approx(statistics.median(durations)), path
        assert row["traces_b"] == len(durations), path
        assert row["span_id_b"] is None and row["critical_b"] is False
    query = by_name[("query", 1)]
    assert query["duration_a_ms"] == pytest.approx(300)
    assert query["difference_ms"] == pytest.approx(300 - statistics.median([10, 12, 8, 11, 13]))
    assert by_name[("cache", 1)]["traces_b"] == 4

    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/traces/{slow.trace_id}")
    page.locator("#compare-typical").click()
    page.wait_for_url(re.compile(r"/compare\?"))
    expect(page.locator("#typical-notice")).to_contain_text("over 5 traces")
    expect(page.locator("#typical-notice")).to_contain_text("Every trace of this kind in the window.")
    expect(page.locator("#side-b")).to_contain_text("Median of 5 traces")
    expect(page.locator("#rare-notice")).to_contain_text("1 span path of the typical trace that this trace lacks")
    row = page.locator("#compare-table tbody tr", has=page.locator(".indent", has_text="query")).first
    assert float(row.locator("td.dur-b").get_attribute("data-value")) == pytest.approx(11)
    expect(row.locator("td.repeats .in-traces")).to_have_text("in 5 of 5")
    expect(row.locator("td.diff")).to_have_class(re.compile("slower"))
    page.locator(".compare-windows a", has_text="7d").click()
    page.wait_for_url(re.compile(r"typical=7d"))
    expect(page.locator("#typical-notice")).to_contain_text("over the last 7d")
    watch.assert_clean()

    # Bounded: more traces of a kind than a typical trace reads.
    lone = [{"trace_id": new_trace_id(), "span_id": f"{index + 1:016x}", "name": "ping", "service_name": "pinger",
             "start_time": now - (index + 2) * S, "end_time": now - (index + 2) * S + (index + 1) * MS}
            for index in range(101)]
    send_spans(server, lone)
    answer = requests.get(f"{server.base_url}/api/v1/compare",
                          params={"a": lone[0]["trace_id"], "typical": "1h"}, timeout=10).json()
    assert answer["typical"]["traces"] == 100 and answer["typical"]["bounded"] is False  # 100 others, all read
    send_spans(server, [{**lone[0], "trace_id": new_trace_id(), "span_id": "00000000000000ff"}])
    answer = requests.get(f"{server.base_url}/api/v1/compare",
                          params={"a": lone[0]["trace_id"], "typical": "1h"}, timeout=10).json()
    assert answer["typical"]["traces"] == 100 and answer["typical"]["bounded"] is True
    # The newest 100 other traces: durations 2..101 ms minus the one left out (the oldest, 101).
    assert answer["rows"][0]["duration_b_ms"] == pytest.approx(statistics.median([1] + list(range(2, 101))))
    page.goto(f"{ADMIN}/compare?a={lone[0]['trace_id']}&typical=1h")
    expect(page.locator("#typical-notice")).to_contain_text("Built from the newest only")


def test_bad_and_unknown_comparisons_are_refused(shop, browse):
    base = shop.server.base_url
    unknown = new_trace_id()
    cases = [
        ({"a": "nothex", "b": shop.b.trace_id}, 400, "a must be a trace id of 32 hexadecimal digits"),
        ({"a": shop.a.trace_id}, 400, "give b (another trace id) or typical"),
        ({"a": shop.a.trace_id, "b": shop.b.trace_id, "typical": "1h"}, 400, "give b or typical, not both"),
        ({"a": shop.a.trace_id, "typical": "2d"}, 400, "window must be one of 1h, 24h, 7d, 30d"),
        ({"a": unknown, "b": shop.b.trace_id}, 404, f"no trace with id {unknown} (A)"),
        ({"a": shop.a.trace_id, "b": unknown}, 404, f"no trace with id {unknown} (B)"),
        ({"a": unknown, "typical": "24h"}, 404, f"no trace with id {unknown} (A)"),
    ]
    for params, status, message in cases:
        answer = requests.get(f"{base}/api/v1/compare", params=params, timeout=10)
        assert answer.status_code == status, (params, answer.text)
        assert message in answer.json()["error"], (params, answer.text)
        page = requests.get(f"{base}{ADMIN}/compare", params=params, timeout=10)
        assert page.status_code == status, (params, page.text[:300])
    # The same trace twice is allowed: every span matches itself.
    same = requests.get(f"{base}/api/v1/compare", params={"a": shop.a.trace_id, "b": shop.a.trace_id}, timeout=10).json()
    assert all(r["only"] is None and r["difference_ms"] == 0 for r in same["rows"]) and len(same["rows"]) == 9
    # A hostile id is echoed as text in the 400 page.
    page, watch = browse(base)
    hostile = f"{ADMIN}/compare?a=" + requests.utils.quote("<img src=x onerror=alert(3)>") + f"&b={shop.b.trace_id}"
    watch.expected_failures.add(base + hostile)
    page.goto(hostile)
    expect(page.locator(".notice")).to_contain_text("<img src=x onerror=alert(3)>")
    assert_inert(page, watch)
    watch.assert_clean()

"""Search by attribute on the trace list (`attr=` conditions, with session, duration
range, status and service), against a real service and database.

Known traces are sent through the native span endpoint with span and resource
attributes of every JSON type; for each search the test computes the matching traces
itself, in Python, from what it sent (a trace matches when one of its spans meets every
condition), and the JSON API, the page and the NDJSON export must list exactly those.
The bound of the search (the newest 1,000 traces checked) is shown by a store with more
traces than that, where only the export (which checks every trace) finds an old match.
"""

from __future__ import annotations

import json
import random
import re
import time

import pytest
import requests

from browser import ADMIN, MS, new_span_id, new_trace_id, refresh_metrics

HOSTILE_KEY = "<img src=x onerror=alert(1)>"
HOSTILE_VALUE = "\"'><script>alert(2)</script>"
INJECTION = "x'); DROP TABLE observability.spans; --"
SCAN_LIMIT = 1_000


def post(server, spans: list[dict], resource: dict) -> None:
    answer = requests.post(server.spans_url, json={"resource": resource, "spans": spans}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == len(spans), answer.text


class Corpus:
    """The traces sent, as Python keeps them: per trace its spans' attributes, resource
    attributes, times and statuses."""

    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.traces: dict[str, dict] = {}

    def build(self, now_ns: int, count: int = 60) -> dict[tuple, list[dict]]:
        """`count` traces of 1 to 4 spans over the last 5 hours; returns spans grouped by
        resource (one POST each)."""
        rng = self.rng
        resources = [
            {"service.version": "1.4.2", "deployment.environment.name": "prod"},
            {"service.version": "2.0.0", "deployment.environment.name": "staging", "tenant": HOSTILE_VALUE},
            {"service.version": "1.4.2", "deployment.environment.name": "dev", "cpu.count": 8},
        ]
        services = ["gateway", "agent"]
        batches: dict[tuple, list[dict]] = {}
        for index in range(count):
            trace_id = new_trace_id()
            resource_index = index % 3
            service = services[index % 2]
            start = now_ns - rng.randint(1, 5 * 3600) * 1_000 * MS - rng.randint(0, 999) * MS
            spans = []
            root_id = None
            for position in range(rng.randint(1, 4)):
                offset = position * 3
                duration = rng.choice([5, 12, 40, 90, 300, 1200])
                attributes: dict = {}
                if rng.random() < 0.6:
                    attributes["http.route"] = rng.choice(["/mcp", "/tools/list", "/api/items"])
                if rng.random() < 0.5:
                    attributes["retry.count"] = rng.choice([0, 1, 2, 7, 12])
                if rng.random() < 0.3:
                    attributes["ratio"] = rng.choice([0.25, 1.5, -3.0])
                if rng.random() < 0.3:
                    attributes["code"] = rng.choice(["123", "abc"])  # text, never a number
                if rng.random() < 0.2:
                    attributes["cache.hit"] = rng.choice([True, False])
                if rng.random() < 0.15:
                    attributes[HOSTILE_KEY] = HOSTILE_VALUE
                if rng.random() < 0.1:
                    attributes["note"] = INJECTION
                span = {
                    "trace_id": trace_id, "span_id": new_span_id(), "name": f"step {position}",
                    "service_name": service, "start_time": start + offset * MS, "duration_ms": duration,
                    "attributes": attributes,
                }
                if rng.random() < 0.15:
                    span.update(status="error", status_message="failed on purpose")
                if root_id is None:
                    root_id = span["span_id"]
                    span["kind"] = "server"
                else:
                    span["parent_span_id"] = root_id
                spans.append(span)
            key = (resource_index, service)
            batches.setdefault(key, []).extend(spans)
            self.traces[trace_id] = {
                "service": service,
                "resource": resources[resource_index],
                "spans": spans,
                "start": min(s["start_time"] for s in spans),
                "end": max(s["start_time"] + s["duration_ms"] * MS for s in spans),
                "error": any(s.get("status") == "error" for s in spans),
            }
        return {key: (resources[key[0]], spans) for key, spans in batches.items()}

    # Independent evaluation of the grammar, written from its documentation.
    @staticmethod
    def text_of(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value == int(value):
            return f"{value:.1f}"
        return str(value)

    @classmethod
    def meets(cls, condition: str, attributes: dict, resource: dict) -> bool:
        source = attributes
        if condition.startswith("resource:"):
            condition = condition[len("resource:"):]
            source = resource
        if condition.startswith('"'):
            # A quoted key: up to the lone closing quote, "" standing for one.
            match = re.match(r'"((?:[^"]|"")*)"\s*(.*)$', condition)
            key, rest = match.group(1).replace('""', '"'), match.group(2)
            if rest == "exists":
                return key in source
            position = 0
            condition = rest
        elif any(c in condition for c in "!=<>"):
            position = min(i for i, c in enumerate(condition) if c in "!=<>")
            key = condition[:position].strip()
        else:
            return condition[: -len(" exists")].strip() in source
        if condition[position:].startswith("!="):
            operator, value = "!=", condition[position + 2:].strip()
        else:
            operator, value = condition[position], condition[position + 1:].strip()
        if key not in source:
            return False
        found = source[key]
        if operator == "=":
            return cls.text_of(found) == value
        if operator == "!=":
            return cls.text_of(found) != value
        if isinstance(found, bool) or not isinstance(found, (int, float)):
            return False
        return found > float(value) if operator == ">" else found < float(value)

    def expected(self, conditions: list[str], status: str | None = None, service: str | None = None,
                 min_ms: float | None = None, max_ms: float | None = None) -> list[str]:
        """Matching trace ids, newest first."""
        found = []
        for trace_id, trace in self.traces.items():
            duration = (trace["end"] - trace["start"]) / MS
            if status is not None and (status == "error") != trace["error"]:
                continue
            if service is not None and trace["service"] != service:
                continue
            if min_ms is not None and duration < min_ms:
                continue
            if max_ms is not None and duration > max_ms:
                continue
            if conditions and not any(
                all(self.meets(c, span["attributes"], trace["resource"]) for c in conditions)
                for span in trace["spans"]
            ):
                continue
            found.append(trace_id)
        return sorted(found, key=lambda t: (-self.traces[t]["start"], t))


@pytest.fixture(scope="module")
def corpus(db, server) -> Corpus:
    corpus = Corpus()
    for (resource, spans) in corpus.build(time.time_ns()).values():
        post(server, spans, resource)
    return corpus


def api(server, params) -> requests.Response:
    return requests.get(f"{server.base_url}/api/v1/traces", params=params, timeout=30)


SEARCHES = [
    (["http.route=/mcp"], {}),
    (["http.route!=/mcp"], {}),
    (["retry.count exists"], {}),
    (["retry.count>1"], {}),
    (["retry.count<1"], {}),
    (["ratio<0"], {}),
    (["ratio=1.5"], {}),
    (["code>100"], {}),  # "123" is text: no match however it reads
    (["code=123"], {}),
    (["cache.hit=true"], {}),
    (["resource:service.version=1.4.2"], {}),
    (["resource:cpu.count>4", "retry.count exists"], {}),
    (["resource:tenant exists"], {}),
    (["http.route=/mcp", "retry.count>1"], {}),  # both on one span
    (["http.route=/mcp"], {"status": "error"}),
    (["retry.count exists"], {"service": "agent", "min_ms": 10.5, "max_ms": 400.5}),
    ([f'"{HOSTILE_KEY}"={HOSTILE_VALUE}'], {}),
    ([f'"{HOSTILE_KEY}" exists', "retry.count<5"], {}),
    ([f"resource:tenant={HOSTILE_VALUE}"], {}),
    ([f"note={INJECTION}"], {}),
    ([f"{INJECTION} exists"], {}),
    ([], {"min_ms": 100.5, "max_ms": 1000.5}),
    (["absent.key exists"], {}),
]


@pytest.mark.parametrize("conditions,filters", SEARCHES, ids=[" & ".join(c) or "no attr" for c, _ in SEARCHES])
def test_searches_match_an_independent_computation(server, corpus, conditions, filters):
    expected = corpus.expected(conditions, **filters)
    params = [("window", "24h"), ("limit", "100")] + [("attr", c) for c in conditions] + list(filters.items())
    answer = api(server, params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [t["trace_id"] for t in body["traces"]] == expected
    assert body["attr"] == conditions
    assert body["bounded"] is False
    # The export takes the same filters and finds the same traces.
    export = requests.get(f"{server.base_url}/api/v1/traces.ndjson", params=params, timeout=30)
    assert export.status_code == 200, export.text
    assert [json.loads(line)["trace_id"] for line in export.text.splitlines()] == expected


def test_the_corpus_exercises_every_kind_of_answer(corpus):
    """The searches above are worth something only if some match few traces, some many."""
    sizes = {" & ".join(c): len(corpus.expected(c, **f)) for c, f in SEARCHES if not f}
    assert sizes["absent.key exists"] == 0 and sizes["code>100"] == 0
    assert 0 < sizes["http.route=/mcp"] < len(corpus.traces)
    assert 0 < sizes["http.route=/mcp & retry.count>1"] < sizes["http.route=/mcp"]
    assert sizes[f'"{HOSTILE_KEY}"={HOSTILE_VALUE}'] > 0 and sizes[f"note={INJECTION}"] > 0


def test_session_filter_lists_the_traces_of_one_session(db, server):
    now = time.time_ns()
    sessions = {}
    starts = {}
    for index in range(6):
        trace_id = new_trace_id()
        session = f"sess-{index % 2}"
        sessions[trace_id] = session
        starts[trace_id] = now - (index + 1) * 60_000 * MS
        span = {
            "trace_id": trace_id, "span_id": new_span_id(), "name": "tools/call lookup", "kind": "server",
            "service_name": "mcp-gateway", "start_time": starts[trace_id], "duration_ms": 8,
            "attributes": {"mcp.method.name": "tools/call", "gen_ai.tool.name": "lookup", "mcp.session.id": session},
        }
        post(server, [span], {"service.name": "mcp-gateway"})
    refresh_metrics(db)  # assembles the calls, which carry the session
    expected = sorted((t for t, s in sessions.items() if s == "sess-1"), key=lambda t: -starts[t])
    assert len(expected) == 3
    body = api(server, {"window": "1h", "session": "sess-1", "service": "mcp-gateway"}).json()
    assert [t["trace_id"] for t in body["traces"]] == expected
    body = api(server, {"window": "1h", "session": "sess-1", "service": "mcp-gateway",
                        "attr": "mcp.session.id!=sess-1"}).json()
    assert body["traces"] == []


@pytest.mark.parametrize("params,message", [
    ({"attr": "http.route"}, "needs an operator"),
    ({"attr": "=x"}, "names no attribute"),
    ({"attr": "retry.count>many"}, "compares numbers"),
    ({"attr": "a!b"}, "! must be followed by ="),
    ({"attr": "a=b\x01"}, "control characters"),
    ({"attr": "k" * 201 + "=1"}, "key must be at most 200"),
    ({"max_ms": "-3"}, "max_ms must be a number"),
    ({"min_ms": "50", "max_ms": "10"}, "max_ms must not be less than min_ms"),
])
def test_malformed_conditions_get_a_precise_400(server, params, message):
    for path in ("/api/v1/traces", "/api/v1/traces.ndjson", f"{ADMIN}/traces"):
        answer = requests.get(f"{server.base_url}{path}", params=params, timeout=10)
        assert answer.status_code == 400, (path, answer.text)
        assert message in answer.text, (path, answer.text)
        assert "postgres" not in answer.text.lower() and "sql" not in answer.text.lower()


def test_too_many_conditions_are_refused(server):
    params = [("attr", f"k{n} exists") for n in range(11)]
    answer = api(server, params)
    assert answer.status_code == 400 and "at most 10 attr conditions" in answer.json()["error"]


def test_hostile_conditions_stay_inert(server, corpus, db, browse):
    assert db.scalar("SELECT count(*) FROM observability.spans") > 0  # the injection dropped nothing
    conditions = [f'"{HOSTILE_KEY}"={HOSTILE_VALUE}']
    expected = corpus.expected(conditions)
    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/traces?window=24h&limit=100&" + "&".join(
        f"attr={requests.utils.quote(c, safe='')}" for c in conditions))
    assert page.locator("img[src=x]").count() == 0 and page.locator("#trace-table script").count() == 0
    assert page.locator("input[name=attr]").first.input_value() == conditions[0]
    assert HOSTILE_KEY in page.locator("p.computed-at").inner_text()
    ids = [a.inner_text() for a in page.locator("#trace-table a.trace-id").all()]
    assert ids == expected
    watch.assert_clean()


def test_chromium_fills_the_form_and_the_url_keeps_the_query(server, corpus, db, browse):
    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/traces?window=24h&limit=100")
    fields = page.locator("input[name=attr]")
    assert fields.count() == 1
    fields.first.fill("retry.count>1")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    assert "attr=retry.count%3E1" in page.url
    assert [a.inner_text() for a in page.locator("#trace-table a.trace-id").all()] == corpus.expected(["retry.count>1"])
    # The condition stays in its field, and an empty one follows for another.
    fields = page.locator("input[name=attr]")
    assert fields.count() == 2 and fields.first.input_value() == "retry.count>1"
    fields.nth(1).fill("resource:service.version = 1.4.2")
    page.locator("input[name=max_ms]").fill("400.5")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    expected = corpus.expected(["retry.count>1", "resource:service.version=1.4.2"], max_ms=400.5)
    assert [a.inner_text() for a in page.locator("#trace-table a.trace-id").all()] == expected
    assert page.locator("#search-bounded").count() == 0
    # The URL reproduces the view: loading it again, and its JSON twin, give the same list.
    url = page.url
    page.goto(url)
    assert [a.inner_text() for a in page.locator("#trace-table a.trace-id").all()] == expected
    api_url = page.locator("a.api-link").get_attribute("href")
    twin = requests.get(f"{server.base_url}{api_url}", timeout=10).json()
    assert [t["trace_id"] for t in twin["traces"]] == expected
    assert twin["attr"] == ["retry.count>1", "resource:service.version=1.4.2"]
    watch.assert_clean()

    # A saved view keeps the conditions.
    query = url.split("?", 1)[1]
    saved = requests.post(f"{server.base_url}{ADMIN}/views", data={"name": "retries", "page": "traces", "query": query},
                          allow_redirects=False, timeout=10)
    assert saved.status_code in (302, 303), saved.text
    stored = db.one("SELECT query FROM observability.saved_views WHERE name = 'retries'")["query"]
    opened = requests.get(f"{server.base_url}{ADMIN}/traces?{stored}", timeout=10)
    found = re.findall(r'class="trace-id" href="[^"]*">([0-9a-f]{32})<', opened.text)
    assert found == expected


def test_a_search_past_its_bound_says_so(make_database, start_server, browse):
    db = make_database()
    server = start_server(db)
    now = time.time_ns()
    # One old trace with the attribute, then more than the bound of newer ones without.
    old = new_trace_id()
    post(server, [{"trace_id": old, "span_id": new_span_id(), "name": "old", "service_name": "archive",
                   "start_time": now - 3 * 3600 * 1_000 * MS, "duration_ms": 5,
                   "attributes": {"needle": "yes"}}], {"service.name": "archive"})
    filler = [{"trace_id": new_trace_id(), "span_id": new_span_id(), "name": "filler", "service_name": "busy",
               "start_time": now - (index + 1) * 500 * MS, "duration_ms": 1, "attributes": {"needle": "no"}}
              for index in range(SCAN_LIMIT + 100)]
    for first in range(0, len(filler), 1000):
        post(server, filler[first:first + 1000], {"service.name": "busy"})
    assert db.scalar("SELECT count(*) FROM observability.traces WHERE service_name IN ('busy', 'archive')") \
        == SCAN_LIMIT + 101

    bounded = api(server, {"window": "24h", "attr": "needle=yes"}).json()
    assert bounded["traces"] == [] and bounded["bounded"] is True and bounded["scan_limit"] == SCAN_LIMIT
    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/traces?window=24h&attr=needle%3Dyes")
    notice = page.locator("#search-bounded")
    assert notice.count() == 1 and "newest 1,000 traces" in notice.inner_text()
    watch.assert_clean()
    # The export checks every trace of the window, and another filter narrows the search.
    export = requests.get(f"{server.base_url}/api/v1/traces.ndjson", params={"window": "24h", "attr": "needle=yes"},
                          timeout=30)
    assert [json.loads(line)["trace_id"] for line in export.text.splitlines()] == [old]
    narrowed = api(server, {"window": "24h", "attr": "needle=yes", "service": "archive"}).json()
    assert [t["trace_id"] for t in narrowed["traces"]] == [old] and narrowed["bounded"] is False
    # A search whose page fills up lists the newest matches and is not bounded.
    common = api(server, {"window": "24h", "attr": "needle=no", "limit": "20"}).json()
    newest = db.rows("SELECT observability.hex_trace_id(trace_id) AS id FROM observability.traces "
                     "WHERE service_name = 'busy' ORDER BY start_time DESC, trace_id LIMIT 20")
    assert [t["trace_id"] for t in common["traces"]] == [r["id"] for r in newest]
    assert common["bounded"] is False and common["has_next"] is True

"""Classification, inferred errors and redaction rules, one table each, through the native
JSON endpoint of a live server and read back from PostgreSQL."""

from __future__ import annotations

import json

from payloads import now_ns, span_id, trace_id, trace_uuid

MS = 1_000_000

# name, attributes, kind -> operation, target
CLASSIFICATION = [
    ("tools/call", {"mcp.method.name": "tools/call", "gen_ai.tool.name": "get_weather"}, "server",
     "tool_invoke", "get_weather"),
    ("tools/call search_docs", {}, "server", "tool_invoke", "search_docs"),
    ("prompts/get", {"mcp.method.name": "prompts/get", "gen_ai.prompt.name": "summarize"}, "server",
     "prompt_render", "summarize"),
    ("resources/read", {"mcp.method.name": "resources/read", "mcp.resource.uri": "file:///a.md"}, "server",
     "resource_fetch", "file:///a.md"),
    ("tool.invoke", {"tool.name": "calc"}, "internal", "tool_invoke", "calc"),
    ("prompt.render", {"prompt.id": "greeting"}, "internal", "prompt_render", "greeting"),
    ("resource.read", {"resource.uri": "s3://bucket/key"}, "internal", "resource_fetch", "s3://bucket/key"),
    ("query", {"db.system.name": "postgresql", "db.operation.name": "UPSERT"}, "client", "db_query", "UPSERT"),
    ("query", {"db.system": "mysql", "db.statement": "  update t set a = 1"}, "client", "db_query", "UPDATE"),
    ("GET", {"http.request.method": "GET", "http.route": "/users/{id}", "url.path": "/users/7"}, "server",
     "http_request", "GET /users/{id}"),
    ("GET", {"http.method": "GET", "http.target": "/search?q=secret"}, "server", "http_request", "GET /search"),
    ("POST", {"http.request.method": "POST", "url.full": "https://api.example.com/v1/items?x=1"}, "client",
     "http_request", "POST /v1/items"),
    ("compute", {"foo": "bar"}, "internal", "internal", None),
]


def post_native(http, server, spans: list[dict], service: str = "rules") -> dict:
    response = http.post(server.spans_url, json={"service_name": service, "spans": spans}, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == 0, body
    return body


def native_span(tid: bytes, name: str, attributes: dict, kind: str = "internal", **extra) -> dict:
    t0 = now_ns()
    return {"trace_id": tid.hex(), "span_id": span_id().hex(), "name": name, "kind": kind,
            "start_time": t0, "end_time": t0 + MS, "attributes": attributes, **extra}


def test_classification_table(server, db, http):
    tid = trace_id()
    spans = [native_span(tid, name, attrs, kind) for name, attrs, kind, _, _ in CLASSIFICATION]
    post_native(http, server, spans)
    rows = {r["span_id"]: r for r in db.rows("SELECT span_id, operation, target FROM observability.span_list "
                                             "WHERE trace_id = %s", tid.hex())}
    got = [(rows[s["span_id"]]["operation"], rows[s["span_id"]]["target"]) for s in spans]
    assert got == [(op, target) for _, _, _, op, target in CLASSIFICATION]


# attributes, status -> stored status
INFERRED_ERRORS = [
    ({"error.type": "TimeoutError"}, "unset", "error"),
    ({"mcp.tool.is_error": True}, "ok", "error"),
    ({"rpc.jsonrpc.error_code": -32602}, "ok", "error"),
    ({"http.response.status_code": 503}, "unset", "error"),  # a server answering 5xx
    ({"http.response.status_code": 404}, "unset", "unset"),
    ({"mcp.tool.is_error": False}, "ok", "ok"),
    ({}, "error", "error"),
]


def test_inferred_errors(server, db, http):
    tid = trace_id()
    spans = [native_span(tid, f"case {i}", attrs, "server", status=status)
             for i, (attrs, status, _) in enumerate(INFERRED_ERRORS)]
    post_native(http, server, spans)
    rows = {r["span_id"]: r for r in db.rows("SELECT span_id, status, status_message FROM observability.span_list "
                                             "WHERE trace_id = %s", tid.hex())}
    assert [rows[s["span_id"]]["status"] for s in spans] == [expected for _, _, expected in INFERRED_ERRORS]
    for span, (_, _, expected) in zip(spans, INFERRED_ERRORS):
        if expected == "error" and span["status"] != "error":
            assert rows[span["span_id"]]["status_message"], span  # an inferred error says why
    trace = db.one("SELECT error_count FROM observability.traces WHERE trace_id = %s::uuid", tid.hex())
    assert trace["error_count"] == sum(1 for *_, expected in INFERRED_ERRORS if expected == "error")


def test_redaction_rules(server, db, http):
    tid = trace_id()
    long_value = "a" * 10_000
    attributes = {
        "http.request.header.authorization": "Bearer abc.def.ghi",
        "http.request.header.cookie": "session=abc",
        "x-api-key": "k-123",
        "apiKey": "k-456",
        "client_secret": "shh",
        "db.password": "pw",
        "auth_token": "tok",
        "gen_ai.usage.input_tokens": 1234,   # a count, not a secret
        "token_count": 99,
        "password_set": True,                # booleans and numbers are kept
        "headers": {"authorization": "Bearer nested", "accept": "text/html"},
        "db.statement": "SELECT * FROM t WHERE name = 'bob' AND id = 12345 AND pin = E'9\\'9'",
        "url.full": "https://user:hunter2@example.com/cb?code=x&access_token=zzz&page=2",
        "server.address": "example.com",
        "big": long_value,
        # Gaps closed for issue 9 (item 11).
        "accesstoken": "at-1",
        "x-authentication": "xa-1",
        "sql.query": 'SELECT * FROM t WHERE pw = "dq-1"',
        "db.query.summary": "SELECT t WHERE pw = 'sm-1'",
        "redis": {"db.system.name": "redis", "db.query.text": "AUTH default rp-1"},
        "vcs.clone_url": "https://tok-1@git.example.com/x?sig=sg-1&api%5Fkey=ak-1&key=gk-1",
    }
    span = native_span(tid, "redaction", attributes, status="error",
                       status_message="connect postgres://svc:s3cret@db:5432/app failed",
                       events=[{"name": "exception", "attributes": {
                           "exception.message": "GET https://h/x?api_key=leak123 failed"}}])
    post_native(http, server, [span])
    row = db.one("SELECT attributes, status_message, events FROM observability.spans WHERE trace_id = %s::uuid",
                 trace_uuid(tid))
    a = row["attributes"]
    for key in ("http.request.header.authorization", "http.request.header.cookie", "x-api-key", "apiKey",
                "client_secret", "db.password", "auth_token"):
        assert a[key] == "[REDACTED]", key
    assert a["gen_ai.usage.input_tokens"] == 1234 and a["token_count"] == 99 and a["password_set"] is True
    assert a["headers"] == {"authorization": "[REDACTED]", "accept": "text/html"}
    assert a["db.statement"] == "SELECT * FROM t WHERE name = ? AND id = ? AND pin = ?"
    assert a["url.full"] == "https://user:[REDACTED]@example.com/cb?code=[REDACTED]&access_token=[REDACTED]&page=2"
    assert a["accesstoken"] == "[REDACTED]" and a["x-authentication"] == "[REDACTED]"
    assert a["sql.query"] == "SELECT * FROM t WHERE pw = ?"
    assert a["db.query.summary"] == "SELECT t WHERE pw = ?"
    assert a["redis"] == {"db.system.name": "redis", "db.query.text": "AUTH ?"}
    assert a["vcs.clone_url"] == "https://[REDACTED]@git.example.com/x?sig=[REDACTED]&api%5Fkey=[REDACTED]&key=[REDACTED]"
    assert a["server.address"] == "example.com"
    assert a["big"] == "a" * 8192 + f"…[truncated {10_000 - 8192} chars]"
    assert row["status_message"] == "connect postgres://svc:[REDACTED]@db:5432/app failed"
    assert row["events"][0]["attributes"]["exception.message"] == "GET https://h/x?api_key=[REDACTED] failed"
    text = json.dumps([row["attributes"], row["status_message"], row["events"]])
    for secret in ("abc.def.ghi", "session=abc", "k-123", "k-456", "shh", "Bearer nested", "bob", "12345",
                   "hunter2", "zzz", "s3cret", "leak123", "at-1", "xa-1", "dq-1", "sm-1", "rp-1", "tok-1", "sg-1",
                   "ak-1", "gk-1"):
        assert secret not in text, secret

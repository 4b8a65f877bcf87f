"""Helpers for the tests of `serve`'s own work: its self-spans in observability.spans,
its maintenance log, and waiting for either without fixed sleeps.

Self-spans reach the database through a background exporter that flushes every 250 ms,
and maintenance runs on intervals, so every read here is a poll with a deadline.
"""

from __future__ import annotations

import http.client
import re
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

SELF_SERVICE = "mcp-observatory"
MAINTENANCE_JOBS = ("partitions", "retention", "rollup", "refresh_1h", "refresh_24h", "refresh_7d", "refresh_30d")

SPAN_COLUMNS = """trace_id::text AS trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
    start_time, end_time, duration_ms, status, status_message, attributes,
    observability.span_resource(resource_attributes, resource_id) AS resource_attributes, events"""

T = TypeVar("T")


def wait_for(probe: Callable[[], T], what: str, timeout: float = 10.0, interval: float = 0.1) -> T:
    """Calls `probe` until it returns something truthy and returns that; fails after
    `timeout` seconds naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value: {value!r}")
        time.sleep(interval)


def wait_until_stable(probe: Callable[[], T], settle: float = 1.0, timeout: float = 30.0) -> T:
    """Polls `probe` until its value has not changed for `settle` seconds (four flushes of
    the self-span exporter at the default of 1 s) and returns it."""
    deadline = time.monotonic() + timeout
    last = probe()
    since = time.monotonic()
    while time.monotonic() - since < settle:
        assert time.monotonic() < deadline, f"value still changing after {timeout} s: {last!r}"
        time.sleep(0.1)
        value = probe()
        if value != last:
            last, since = value, time.monotonic()
    return last


def user_agent() -> str:
    """A User-Agent no other request has, to find one request's HTTP span."""
    return "pytest-" + secrets.token_hex(6)


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes
    client_port: int  # the local port of the connection, as the server saw it


def fetch(server, path: str, headers: dict | None = None, method: str = "GET") -> Fetched:
    """One request on its own connection, so the span's client.port can be checked."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.connect()
        port = connection.sock.getsockname()[1]
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return Fetched(response.status, {k.lower(): v for k, v in response.getheaders()}, body, port)
    finally:
        connection.close()


def self_spans(db, where: str = "TRUE", *params) -> list[dict]:
    """The service's own spans matching `where`, in start order."""
    return db.rows(f"SELECT {SPAN_COLUMNS} FROM observability.spans "
                   f"WHERE service_name = '{SELF_SERVICE}' AND ({where}) ORDER BY start_time, span_id", *params)


def count_self_spans(db, where: str = "TRUE", *params) -> int:
    return db.scalar(f"SELECT count(*) FROM observability.spans WHERE service_name = '{SELF_SERVICE}' AND ({where})",
                     *params)


def http_span(db, agent: str) -> dict | None:
    """The HTTP server self-span of the request sent with User-Agent `agent`."""
    rows = self_spans(db, "kind = 'server' AND attributes->>'user_agent.original' = %s", agent)
    assert len(rows) <= 1, f"one request, {len(rows)} server spans: {rows}"
    return rows[0] if rows else None


def wait_http_span(db, agent: str, timeout: float = 10.0) -> dict:
    return wait_for(lambda: http_span(db, agent), f"the HTTP self-span of the request with User-Agent {agent}", timeout)


def children(db, span: dict) -> list[dict]:
    """The self-spans whose parent is `span`."""
    return self_spans(db, "trace_id = %s::uuid AND parent_span_id = %s", span["trace_id"], span["span_id"])


def db_spans_of(db, collection: str, where: str = "TRUE", *params) -> list[dict]:
    """DB client self-spans that read `collection` (e.g. observability.metrics_24h)."""
    return self_spans(db, f"kind = 'client' AND attributes->>'db.collection.name' = %s AND ({where})",
                      collection, *params)


def maintenance_log(db, job: str | None = None, where: str = "TRUE", *params) -> list[dict]:
    """Rows of observability.maintenance_log, oldest first (all jobs when `job` is None)."""
    if job is None:
        return db.rows(f"SELECT * FROM observability.maintenance_log WHERE ({where}) ORDER BY started_at, id", *params)
    return db.rows(f"SELECT * FROM observability.maintenance_log WHERE job = %s AND ({where}) ORDER BY started_at, id",
                   job, *params)


def owner_pid(owner: str) -> int:
    """The process id at the end of a maintenance owner such as `host:1234`."""
    match = re.search(r":(\d+)$", owner)
    assert match, f"owner {owner!r} does not end with :<pid>"
    return int(match.group(1))


def short_hostname() -> str:
    return socket.gethostname().split(".")[0]


def server_owner(server) -> str:
    """The `<host>:<pid>` a running `serve` names itself by (its startup log line), checked
    against its pid and this machine's host name."""
    match = re.search(r"\bowner=(\S+)", server.log())
    assert match, f"no owner= in the startup line of the server on port {server.port}"
    owner = match.group(1)
    host, _, pid = owner.rpartition(":")
    assert pid == str(server.pid) and host.split(".")[0] == short_hostname(), owner
    return owner

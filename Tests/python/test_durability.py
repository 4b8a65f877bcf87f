"""A 200 means committed: it survives `kill -9` of the service, and an unreachable
PostgreSQL turns into 503 + Retry-After (never a lost 200, a 500 or a dropped
connection) until it is back."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import psycopg
import pytest
import requests
from google.rpc import status_pb2

from harness import REPO_ROOT, Database, free_port
from payloads import SpanSpec, export_bytes, now_ns, post_protobuf, simple_trace, span_id, trace_id, trace_uuid

GRPC_UNAVAILABLE = 14
#: What OpenTelemetry's OTLP/HTTP exporters wait for an answer by default (OTEL_EXPORTER_OTLP_TIMEOUT).
OTLP_DEFAULT_TIMEOUT_S = 10.0
RECOVERY_BOUND_S = 15.0


class ServiceBug(Exception):
    """A defect of the service, raised to fail a test with an account of what went wrong."""


# MARK: Load


def small_export() -> tuple[str, bytes, int]:
    spans = simple_trace("load", spans=3)
    return spans[0].trace_id.hex(), export_bytes({"load": spans}), 3


class BulkExports:
    """Exports of one trace with many padded spans (a batch write that takes a while), made by
    swapping the trace id in a body built once."""

    def __init__(self, spans: int = 1000, padding: int = 2000):
        self.template_id = trace_id()
        t0 = now_ns()
        specs = [SpanSpec(self.template_id, span_id(), f"row {i}", t0 + i * 1000, t0 + i * 1000 + 500,
                          attributes={"payload": "p" * padding})
                 for i in range(spans)]
        self.template = export_bytes({"bulk": specs})
        self.spans = spans

    def __call__(self) -> tuple[str, bytes, int]:
        tid = trace_id()
        return tid.hex(), self.template.replace(self.template_id, tid), self.spans


@dataclass
class Outcome:
    sent_at: float
    answered_at: float
    trace_hex: str
    spans: int
    status: int | None  # None: no HTTP answer
    retry_after: str | None = None
    body: bytes = b""
    error: str = ""


@dataclass
class Load:
    """Threads sending exports with unique trace ids, recording every outcome."""

    url: str
    make_export: Callable[[], tuple[str, bytes, int]]
    threads: int
    stop_on_connection_error: bool
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> "Load":
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, name=f"load-{index}", daemon=True)
            worker.start()
            self.workers.append(worker)
        return self

    def _run(self):
        with requests.Session() as session:
            while not self.stopping.is_set():
                trace_hex, body, spans = self.make_export()
                sent = time.monotonic()
                status, retry_after, content, error = None, None, b"", ""
                try:
                    response = post_protobuf(session, self.url, body, timeout=30)
                    status, content = response.status_code, response.content
                    retry_after = response.headers.get("Retry-After")
                except requests.RequestException as failure:
                    error = f"{type(failure).__name__}: {failure}"
                outcome = Outcome(sent, time.monotonic(), trace_hex, spans, status, retry_after, content, error)
                with self.lock:
                    self.outcomes.append(outcome)
                if status is None:
                    if self.stop_on_connection_error:
                        return
                    time.sleep(0.1)
                if status == 503:
                    time.sleep(0.1)  # a client backing off, a little more eagerly than Retry-After asks

    def snapshot(self) -> list[Outcome]:
        with self.lock:
            return list(self.outcomes)

    def acknowledged(self) -> list[Outcome]:
        return [o for o in self.snapshot() if o.status == 200]

    def wait_for_acks(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged()) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged())} exports acknowledged in {timeout} s"
            time.sleep(0.02)

    def finish(self, timeout: float = 60) -> None:
        self.stopping.set()
        for worker in self.workers:
            worker.join(timeout)
            assert not worker.is_alive(), f"{worker.name} did not finish"


def assert_all_stored(db: Database, acknowledged: list[Outcome]) -> None:
    rows = db.rows(
        "SELECT observability.hex_trace_id(trace_id) AS t, count(*) AS n FROM observability.spans "
        "WHERE trace_id = ANY(%s::uuid[]) GROUP BY 1", [trace_uuid(bytes.fromhex(o.trace_hex)) for o in acknowledged])
    stored = {r["t"]: r["n"] for r in rows}
    missing = [o.trace_hex for o in acknowledged if stored.get(o.trace_hex, 0) != o.spans]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged exports not (fully) stored: {missing[:5]}"


# MARK: kill -9


def test_kill_9_under_load_loses_no_acknowledged_span(db, start_server):
    server = start_server(db, OBSERVABILITY_BATCH_MAX_WAIT_MS="20")
    load = Load(server.traces_url, small_export, threads=8, stop_on_connection_error=True).start()
    load.wait_for_acks(300, timeout=60)
    server.kill()
    load.finish()

    outcomes = load.snapshot()
    acknowledged = load.acknowledged()
    assert {o.status for o in outcomes} <= {200, None}, Counter(o.status for o in outcomes)
    # The process died under load: requests were still being sent and failed.
    assert sum(1 for o in outcomes if o.status is None) >= 1
    assert_all_stored(db, acknowledged)
    trace_rows = db.scalar("SELECT count(*) FROM observability.traces WHERE trace_id = ANY(%s::uuid[])",
                           [trace_uuid(bytes.fromhex(o.trace_hex)) for o in acknowledged])
    assert trace_rows == len(acknowledged)

    # A new process starts on the same database and is ready.
    again = start_server(db)
    assert requests.get(again.base_url + "/readyz", timeout=10).status_code == 200


# MARK: PostgreSQL outage


class PrivateCluster:
    """A second PostgreSQL cluster (scripts/postgres.sh with its own directory and port)
    that a test may stop without disturbing the others."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="obs_pg_")
        self.port = free_port()
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}/postgres?sslmode=disable"
        self.env = {**os.environ, "OBSERVABILITY_PG_DIR": self.directory, "OBSERVABILITY_PG_PORT": str(self.port)}

    def control(self, action: str) -> None:
        result = subprocess.run([str(REPO_ROOT / "scripts" / "postgres.sh"), action], env=self.env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"postgres.sh {action}: {result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def private_cluster():
    cluster = PrivateCluster()
    try:
        cluster.control("start")
        yield cluster
    finally:
        cluster.control("stop")
        shutil.rmtree(cluster.directory, ignore_errors=True)


def wait_for_first_200(server, restarted_at: float) -> float:
    """Seconds from PostgreSQL being back to the first export answered 200 (inf if the
    process died)."""
    with requests.Session() as session:
        while server.is_alive():
            assert time.monotonic() - restarted_at < 60, "no 200 within 60 s of PostgreSQL being back"
            try:
                _, body, _ = small_export()
                if post_protobuf(session, server.traces_url, body, timeout=30).status_code == 200:
                    return time.monotonic() - restarted_at
            except requests.RequestException:
                pass
            time.sleep(0.05)
    return float("inf")


def fatal_lines(server) -> str:
    return " | ".join(line for line in server.log().splitlines() if "Fatal error" in line)[:300]


def wrong_answers(outcomes: list[Outcome]) -> list[Outcome]:
    """Answers that are neither 200 nor 503 (connection errors excluded)."""
    return [o for o in outcomes if o.status is not None and o.status not in (200, 503)]


@dataclass
class Outage:
    db: Database
    server: object
    outcomes: list[Outcome]
    recovery_s: float
    during: dict
    stopping: tuple[float, float]  # when `postgres.sh stop` began and returned


@pytest.fixture(scope="module")
def outage(private_cluster, start_server) -> Outage:
    """Small exports from four threads; PostgreSQL stopped for 11 s (longer than the span
    writer's write timeout, so queued requests must be answered while it is down), then
    started again."""
    db = Database.create(private_cluster.admin_url)
    server = start_server(db)
    load = Load(server.traces_url, small_export, threads=4, stop_on_connection_error=False).start()
    during = {}
    stopping = (float("nan"), float("nan"))
    try:
        load.wait_for_acks(50, timeout=60)
        stop_began = time.monotonic()
        private_cluster.control("stop")
        stopped_at = time.monotonic()
        stopping = (stop_began, stopped_at)
        time.sleep(2)
        during["healthz"] = requests.get(server.base_url + "/healthz", timeout=10).status_code
        during["readyz"] = requests.get(server.base_url + "/readyz", timeout=10).status_code
        time.sleep(max(0.0, stopped_at + 11 - time.monotonic()))
        during["alive"] = server.is_alive()
        private_cluster.control("start")
        recovery = wait_for_first_200(server, time.monotonic())
        if server.is_alive():
            load.wait_for_acks(len(load.acknowledged()) + 20, timeout=30)
    finally:
        load.finish()
    if server.is_alive():
        during["readyz_after"] = requests.get(server.base_url + "/readyz", timeout=10).status_code
    return Outage(db, server, load.snapshot(), recovery, during, stopping)


def test_postgres_outage_gives_503_then_recovers(outage):
    assert outage.server.is_alive(), f"the process died ({fatal_lines(outage.server)})"
    assert outage.during == {"healthz": 200, "readyz": 503, "alive": True, "readyz_after": 200}
    assert outage.recovery_s < RECOVERY_BOUND_S, f"first 200 {outage.recovery_s:.1f} s after PostgreSQL was back"

    statuses = Counter(o.status for o in outage.outcomes)
    unavailable = [o for o in outage.outcomes if o.status == 503]
    assert unavailable, statuses
    for outcome in unavailable:
        assert outcome.retry_after is not None and int(outcome.retry_after) >= 1, outcome
        status = status_pb2.Status.FromString(outcome.body)
        assert status.code == GRPC_UNAVAILABLE and status.message, status
        assert "PSQLError" not in status.message and "FATAL" not in status.message, status.message
    not_answered = [o.error for o in outage.outcomes if o.status is None]
    assert not not_answered, not_answered[:3]
    # Every export acknowledged before, during and after the outage is stored.
    assert_all_stored(outage.db, [o for o in outage.outcomes if o.status == 200])

    # Exports in flight at the moment PostgreSQL stopped included: only 200 or 503.
    wrong = wrong_answers(outage.outcomes)
    assert not wrong, (statuses, [(o.status, o.body[:120]) for o in wrong[:3]])


def test_outage_answers_arrive_before_the_otlp_default_timeout(outage):
    unavailable = [o for o in outage.outcomes if o.status == 503]
    assert unavailable
    slowest = max(o.answered_at - o.sent_at for o in unavailable)
    if slowest >= OTLP_DEFAULT_TIMEOUT_S:
        raise ServiceBug(f"the slowest 503 took {slowest:.2f} s")


def test_inflight_write_when_postgres_stops(private_cluster, start_server):
    """Stops PostgreSQL the moment a batch write is running, up to six times; every answer
    must still be 200 or 503, and the process must live."""
    db = Database.create(private_cluster.admin_url)
    server = start_server(db)
    load = Load(server.traces_url, BulkExports(), threads=3, stop_on_connection_error=False).start()
    try:
        for _ in range(6):
            load.wait_for_acks(len(load.acknowledged()) + 1, timeout=60)
            with psycopg.connect(private_cluster.admin_url, autocommit=True) as conn:
                deadline = time.monotonic() + 60
                while not conn.execute("SELECT count(*) FROM pg_stat_activity "
                                       "WHERE state = 'active' AND query LIKE '%%ingest_spans%%'").fetchone()[0]:
                    assert time.monotonic() < deadline, "no batch write seen in 60 s"
                    time.sleep(0.002)
            private_cluster.control("stop")
            time.sleep(0.5)
            private_cluster.control("start")
            recovery = wait_for_first_200(server, time.monotonic())
            if not server.is_alive():
                raise ServiceBug(f"observatory serve died ({fatal_lines(server)})")
            assert recovery < RECOVERY_BOUND_S
            wrong = wrong_answers(load.snapshot())
            if wrong:
                raise ServiceBug(f"{len(wrong)} in-flight export(s) answered {wrong[0].status} {wrong[0].body[:100]!r}")
    finally:
        load.finish()
    outcomes = load.snapshot()
    assert {o.status for o in outcomes} <= {200, 503}, Counter(o.status for o in outcomes)
    assert_all_stored(db, [o for o in outcomes if o.status == 200])


# MARK: Backpressure


def test_full_writer_queue_answers_429_with_retry_after(make_database, start_server):
    """With the table locked, the single writer blocks on its first batch; the queue then
    fills, and the request that would overflow it is refused at once with 429. When the
    lock goes, everything queued commits."""
    db = make_database()
    # Self-tracing off: the queue arithmetic below counts this test's spans only, and the
    # maintenance jobs' own spans (the call assembly polls every few seconds) would take
    # queue space, or be the batch that waits for the lock, at moments of their choosing.
    server = start_server(db, OBSERVABILITY_WRITER_QUEUE_SPANS="1000", OBSERVABILITY_WRITER_CONNECTIONS="1",
                          OBSERVABILITY_BATCH_MAX_SPANS="500", OBSERVABILITY_BATCH_MAX_WAIT_MS="0",
                          OBSERVABILITY_ENABLED="false")

    def export(spans: int) -> tuple[str, bytes]:
        t0 = now_ns()
        tid = trace_id()
        specs = [SpanSpec(tid, span_id(), f"s{i}", t0 + i, t0 + i + 1000) for i in range(spans)]
        return tid.hex(), export_bytes({"backpressure": specs})

    results: dict[str, int] = {}

    def send(name: str, body: bytes) -> threading.Thread:
        def run():
            results[name] = post_protobuf(requests, server.traces_url, body, timeout=30).status_code
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    exports = {name: export(400) for name in ("blocked", "queued-1", "queued-2", "refused")}
    with psycopg.connect(db.url, autocommit=False) as lock:
        lock.execute("LOCK TABLE observability.spans IN ACCESS EXCLUSIVE MODE")
        threads = [send("blocked", exports["blocked"][1])]
        deadline = time.monotonic() + 10
        while not db.scalar("SELECT count(*) FROM pg_stat_activity "
                            "WHERE query LIKE '%%ingest_spans%%' AND wait_event_type = 'Lock'"):
            assert time.monotonic() < deadline, "the writer's batch never waited for the lock"
            time.sleep(0.02)
        threads += [send("queued-1", exports["queued-1"][1]), send("queued-2", exports["queued-2"][1])]
        time.sleep(0.5)  # both are in the queue now: 800 of 1000 spans
        started = time.monotonic()
        refused = post_protobuf(requests, server.traces_url, exports["refused"][1], timeout=30)
        refused_after = time.monotonic() - started
        lock.rollback()
    for thread in threads:
        thread.join(30)

    assert refused.status_code == 429, refused.content
    assert int(refused.headers["Retry-After"]) >= 1
    assert status_pb2.Status.FromString(refused.content).code == 8  # RESOURCE_EXHAUSTED
    assert refused_after < 2, "a full queue must refuse at once, not wait"
    assert results == {"blocked": 200, "queued-1": 200, "queued-2": 200}
    stored = {name: db.scalar("SELECT count(*) FROM observability.spans WHERE trace_id = %s::uuid",
                              trace_uuid(bytes.fromhex(hexid))) for name, (hexid, _) in exports.items()}
    assert stored == {"blocked": 400, "queued-1": 400, "queued-2": 400, "refused": 0}

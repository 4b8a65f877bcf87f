"""OBSERVABILITY_READ_DATABASE_URL against a real streaming standby.

The module builds its own pair of clusters in a temporary directory: a primary (initdb,
`wal_level = replica`), migrated by the binary, and a hot standby cloned from it with
`pg_basebackup -R` that streams from it. One `serve` writes to the primary and reads the
dashboards and the read API from the standby. The tests check that the figures really come
from the standby (its connections, and a paused replay that hides new spans), that the lag
shown is the standby's (and 0 when it is idle and current), that a stopped standby turns
the read routes into 503 + Retry-After while ingestion goes on, and that they recover.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from harness import Database, Server, free_port
from payloads import export_bytes, post_protobuf, simple_trace, trace_uuid

LAG_HEADER = "Observatory-Replica-Lag-Seconds"
#: What a client may never read in an answer about the standby: the driver's and server's words.
RAW_DATABASE_TEXT = ("PSQLError", "connectionError", "refused", "SQLSTATE", "127.0.0.1", "pg_")
#: The server asks the standby within 3 s (ReplicaStore.answerWithin); a 503 must come well before the pool's minute.
UNAVAILABLE_ANSWER_S = 10.0


def postgres_bin() -> Path:
    """The newest installed server binaries, as scripts/postgres.sh picks them."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql", pytrace=False)
    return found[-1]


def as_owner(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs a PostgreSQL program; as root, as the `postgres` user (PostgreSQL refuses root)."""
    command = (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + list(args)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
    return result


class Cluster:
    """One PostgreSQL cluster of the pair, in its own directory and on its own port."""

    def __init__(self, root: Path, name: str):
        self.name = name
        self.data = root / name
        self.log = root / f"{name}.log"
        self.sockets = root / "run"
        self.port = free_port()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def configure(self, **settings: str) -> None:
        """Appends settings to postgresql.conf; a later line wins over an earlier one."""
        lines = [f"{key} = {value}" for key, value in settings.items()]
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# test_read_replica.py\n" + "\n".join(lines) + "\n")

    def start(self) -> None:
        as_owner(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        as_owner(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        command = (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + [
            str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "status"]
        return subprocess.run(command, capture_output=True).returncode == 0

    def scalar(self, query: str, database: str = "obs", *params):
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(query, params or None).fetchone()
            return None if row is None else row[0]


@dataclass
class Pair:
    primary: Cluster
    standby: Cluster
    db: Database  # the service's database, on the primary


@pytest.fixture(scope="module")
def pair(observatory_bin) -> Pair:
    """A migrated primary and a hot standby streaming from it; both removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="obs_replica_"))
    primary, standby = Cluster(root, "primary"), Cluster(root, "standby")
    try:
        primary.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
            shutil.chown(primary.sockets, "postgres", "postgres")
        as_owner(str(postgres_bin() / "initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C.UTF-8")
        primary.configure(
            listen_addresses="'127.0.0.1'", port=str(primary.port), unix_socket_directories=f"'{primary.sockets}'",
            wal_level="replica", max_wal_senders="4", wal_keep_size="'256MB'", hot_standby="on",
            hot_standby_feedback="on", shared_buffers="'128MB'", max_connections="60")
        primary.start()
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE obs")
        db = Database(primary.url("obs"), "obs", primary.url())
        db.migrate()

        # -R writes primary_conninfo and standby.signal; -X stream copies the WAL of the backup itself.
        as_owner(str(postgres_bin() / "pg_basebackup"), "-D", str(standby.data), "-h", "127.0.0.1",
                 "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast")
        standby.configure(port=str(standby.port))
        standby.start()
        deadline = time.monotonic() + 60
        while primary.scalar("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", "postgres") < 1:
            assert time.monotonic() < deadline, f"the standby did not stream within 60 s:\n{standby.log.read_text()}"
            time.sleep(0.2)
        assert standby.scalar("SELECT pg_is_in_recovery()") is True
        yield Pair(primary, standby, db)
    finally:
        for cluster in (standby, primary):
            if (cluster.data / "PG_VERSION").exists() and cluster.running():
                cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def server(pair, start_server) -> Server:
    """`serve` on the primary, reading from the standby. Self-tracing off and maintenance
    rare, so that the primary is idle between the tests' own writes."""
    return start_server(
        pair.db, OBSERVABILITY_READ_DATABASE_URL=pair.standby.url("obs"), OBSERVABILITY_ENABLED="false",
        OBSERVABILITY_METRICS_REFRESH_SECONDS="3600", OBSERVABILITY_CLEANUP_INTERVAL="1h")


def ingest(server: Server, spans: int = 3) -> str:
    """One trace through the real OTLP route; its id in hex. Fails unless answered 200."""
    trace = simple_trace("replica-test", spans=spans)
    response = post_protobuf(requests, server.traces_url, export_bytes({"replica-test": trace}), timeout=30)
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return trace[0].trace_id.hex()


def spans_on_primary(pair: Pair, trace_hex: str) -> int:
    return pair.db.scalar("SELECT count(*) FROM observability.spans WHERE trace_id = %s::uuid",
                          trace_uuid(bytes.fromhex(trace_hex)))


def lag(response: requests.Response) -> float:
    value = response.headers.get(LAG_HEADER)
    assert value is not None and re.fullmatch(r"\d+\.\d{3}", value), (LAG_HEADER, value, dict(response.headers))
    return float(value)


def wait_for_status(url: str, status: int, timeout: float) -> requests.Response:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(url, timeout=15)
            if last.status_code == status:
                return last
        except requests.RequestException as error:
            last = error
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {status} within {timeout} s; last: {last!r}")


def test_pages_and_api_read_from_the_standby(pair, server):
    trace_hex = ingest(server)
    api = wait_for_status(f"{server.base_url}/api/v1/traces/{trace_hex}", 200, timeout=30)
    assert lag(api) >= 0
    assert len(api.json()["spans"]) == 3

    page = requests.get(f"{server.base_url}/admin/observability/traces/{trace_hex}", timeout=15)
    assert page.status_code == 200
    assert lag(page) >= 0
    line = re.search(r'<span id="replica-lag" class="replica-lag replica-(\w+)" title="[^"]*">([^<]*)</span>', page.text)
    assert line, "the lag line is in the page header"
    assert line.group(1) in ("current", "behind"), line.group(0)
    assert re.fullmatch(r"Read replica: (up to date|[\d.]+ (ms|s) behind|\d+ m \d+ s behind)", line.group(2)), line.group(2)

    # The dashboards' connections are the standby's: none of them is on the primary.
    query_on_standby = pair.standby.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'observatory-query' AND datname = 'obs'")
    query_on_primary = pair.primary.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'observatory-query'")
    assert query_on_standby >= 1 and query_on_primary == 0, (query_on_standby, query_on_primary)
    # And the writer's are the primary's.
    assert pair.primary.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'observatory-writer'") >= 1


def test_a_paused_replay_hides_new_spans_and_shows_its_lag(pair, server):
    """With replay paused on the standby, a trace committed on the primary is not on the
    pages (they read the standby), and the lag they report grows; resumed, both catch up."""
    pair.standby.scalar("SELECT pg_wal_replay_pause()")
    try:
        paused_at = time.monotonic()
        trace_hex = ingest(server)
        assert spans_on_primary(pair, trace_hex) == 3
        time.sleep(2.5)
        api = requests.get(f"{server.base_url}/api/v1/traces/{trace_hex}", timeout=15)
        assert api.status_code == 404, "the paused standby has not replayed the trace yet"
        assert lag(api) >= time.monotonic() - paused_at - 0.5 >= 2.0
        page = requests.get(f"{server.base_url}/admin/observability/traces?window=1h", timeout=15)
        assert page.status_code == 200
        assert trace_hex not in page.text
        assert re.search(r'id="replica-lag" class="replica-lag replica-\w+" [^>]*>Read replica: ([\d.]+|\d+ m \d+) s behind<',
                         page.text), page.text[:2000]
    finally:
        pair.standby.scalar("SELECT pg_wal_replay_resume()")
    wait_for_status(f"{server.base_url}/api/v1/traces/{trace_hex}", 200, timeout=30)
    deadline = time.monotonic() + 30
    while lag(requests.get(f"{server.base_url}/api/v1/traces?window=1h", timeout=15)) != 0.0:
        assert time.monotonic() < deadline, "the lag did not return to 0 after the replay resumed"
        time.sleep(0.2)


def test_an_idle_current_standby_is_not_lagging(pair, server):
    """While the primary writes nothing, the last replayed transaction grows old although
    the standby has everything: the lag shown stays 0."""
    ingest(server)
    deadline = time.monotonic() + 60
    samples = []
    while time.monotonic() < deadline:
        age = pair.standby.scalar(
            "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 "
            "WHERE pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()")
        response = requests.get(f"{server.base_url}/api/v1/traces?window=1h", timeout=15)
        samples.append((age, response.headers.get(LAG_HEADER)))
        if age is not None and age >= 3.0 and response.headers.get(LAG_HEADER) == "0.000":
            return
        time.sleep(0.5)
    raise AssertionError(f"no idle moment with the lag shown as 0.000: {samples[-10:]}")


def test_a_stopped_standby_is_503_while_ingestion_goes_on(pair, server, start_server):
    pair.standby.stop("fast")
    try:
        for path in ("/admin/observability/metrics", "/admin/observability/traces", "/api/v1/traces",
                     "/api/v1/metrics/summary"):
            started = time.monotonic()
            response = requests.get(server.base_url + path, timeout=30)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, (path, response.status_code, response.text[:500])
            assert int(response.headers["Retry-After"]) >= 1, path
            assert elapsed < UNAVAILABLE_ANSWER_S, (path, elapsed)
            assert LAG_HEADER not in response.headers
            for raw in RAW_DATABASE_TEXT:
                assert raw not in response.text, (path, raw, response.text[:500])
            if path.startswith("/api/"):
                assert response.json()["error"] == "the read replica is unavailable (ingestion is not affected)"
            else:
                assert "<h1>Read replica unavailable</h1>" in response.text
                assert 'class="replica-lag replica-unavailable"' in response.text

        # Ingestion writes to the primary: answered 200, and durable there.
        during = [ingest(server) for _ in range(3)]
        assert [spans_on_primary(pair, t) for t in during] == [3, 3, 3]
        assert requests.get(server.base_url + "/readyz", timeout=10).status_code == 200
        assert requests.get(server.base_url + "/healthz", timeout=10).status_code == 200

        # A service started while the standby is down starts (its checks are the primary's).
        second = start_server(pair.db, OBSERVABILITY_READ_DATABASE_URL=pair.standby.url("obs"),
                              OBSERVABILITY_ENABLED="false")
        assert requests.get(second.base_url + "/readyz", timeout=10).status_code == 200
        assert requests.get(second.base_url + "/api/v1/traces", timeout=30).status_code == 503
        assert ingest(second)
        assert server.is_alive() and second.is_alive()
    finally:
        if not pair.standby.running():
            pair.standby.start()

    # The standby is back: the read routes recover and show what arrived meanwhile.
    for trace_hex in during:
        response = wait_for_status(f"{server.base_url}/api/v1/traces/{trace_hex}", 200, timeout=60)
        assert len(response.json()["spans"]) == 3
    page = wait_for_status(f"{server.base_url}/admin/observability/traces?window=1h", 200, timeout=30)
    assert all(t in page.text for t in during)
    assert 'id="replica-lag"' in page.text and "replica-unavailable" not in page.text

"""Maintenance with several `serve` replicas on one database, storage kept bounded under
load, and `observatory maintenance run-once`.

Replicas: each polls every max(1 s, interval/4) and claims a job through
observability_internal.claim_maintenance_job() once the interval less 1 % has passed
since the job last started anywhere, so partitions and retention run about once per
OBSERVABILITY_CLEANUP_INTERVAL whatever the number of replicas, each run logged in
observability.maintenance_log with its owner (host:pid); when the owner dies, another
replica takes the next run. The replicas run with metrics off, to spare the CPU.

The claims themselves are watched in observability_internal.maintenance_jobs (each stays
there for a whole interval, so sampling every 100 ms sees every one): their gaps are exact,
whereas a logged started_at trails its claim by the time the job takes to start, which
on a loaded 2-core machine varies by a few hundred milliseconds.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta

import psycopg
import pytest

from harness import clean_environment, run_observatory
from selfspans import maintenance_log, owner_pid, server_owner, short_hostname, wait_for
from test_retention import daily_partitions

INTERVAL = 3.0
CLAIM_EVERY = INTERVAL * 0.99  # the interval less 1 %, what claim_maintenance_job() is given
WINDOW = 15.0
CLEANUP_JOBS = ("partitions", "retention")
RETENTION_COUNTS = ("partitions_dropped", "spans_deleted", "traces_deleted", "traces_remaining")
EX_CONFIG = 78
SETTLE = timedelta(hours=1)  # span_partitions_to_compact(): a day is rewritten an hour after it ends


def db_now(db) -> datetime:
    return db.scalar("SELECT now()")


def watch_claims(db, seconds: float) -> dict[str, list[tuple[datetime, str]]]:
    """Every claim of the cleanup jobs seen in `seconds`, as (claimed at, owner) per job."""
    seen: dict[str, list[tuple[datetime, str]]] = {job: [] for job in CLEANUP_JOBS}
    with psycopg.connect(db.url, autocommit=True) as conn:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for job, claimed, owner in conn.execute(
                    "SELECT job, last_started_at, last_owner FROM observability_internal.maintenance_jobs "
                    "WHERE job = ANY(%s)", [list(CLEANUP_JOBS)]):
                if claimed is not None and (not seen[job] or seen[job][-1][0] != claimed):
                    seen[job].append((claimed, owner))
            time.sleep(0.1)
    return seen


def days_due(db, at: datetime) -> int:
    """The daily spans partitions whose day ended at least SETTLE before `at`, read from
    their names: what compaction rewrites by then, once each."""
    return sum(1 for end in daily_partitions(db).values() if end + SETTLE <= at)


def gaps(claims: list[tuple[datetime, str]]) -> list[float]:
    return [(b[0] - a[0]).total_seconds() for a, b in zip(claims, claims[1:])]


def assert_one_run_per_claim(db, job: str, claims: list[tuple[datetime, str]]) -> None:
    """Each claim is followed by exactly one logged run of the claimer, before the next claim."""
    bounds = [c[0] for c in claims[1:]] + [None]
    for (claimed, owner), until in zip(claims, bounds):
        where = "started_at >= %s" + ("" if until is None else " AND started_at < %s")
        params = [claimed] + ([] if until is None else [until])
        runs = wait_for(lambda: maintenance_log(db, job, where, *params), f"the {job} run claimed at {claimed}", 5)
        assert [owner_pid(r["owner"]) for r in runs] == [owner_pid(owner)], (job, claimed, owner, runs)


@pytest.fixture(scope="module")
def replicas(make_database, start_server):
    """Three replicas with OBSERVABILITY_CLEANUP_INTERVAL=3s, their claims watched for 15 s."""
    db = make_database()
    # A closed day due for compaction at any hour (yesterday is not due until 01:00 UTC).
    db.execute("SELECT observability.ensure_partitions(2, 0)")
    servers = [start_server(db, OBSERVABILITY_CLEANUP_INTERVAL="3s", OBSERVABILITY_METRICS_ENABLED="false")
               for _ in range(3)]
    start = db_now(db)
    claims = watch_claims(db, WINDOW)
    end = db_now(db)
    assert all(s.is_alive() for s in servers)
    return db, servers, start, end, claims


# MARK: Election


def test_each_job_runs_once_per_interval_across_replicas(replicas):
    db, servers, start, end, claims = replicas
    owners = {server_owner(s) for s in servers}
    seconds = (end - start).total_seconds()
    for job in CLEANUP_JOBS:
        assert min(gaps(claims[job])) >= CLAIM_EVERY, (job, gaps(claims[job]))  # never twice in one interval
        in_window = [c for c in claims[job] if start <= c[0] <= end]
        assert math.floor(seconds / 4.1) <= len(in_window) <= math.ceil(seconds / 2.97) + 1, (job, claims[job])
        assert {owner for _, owner in claims[job]} <= owners, claims[job]
        assert_one_run_per_claim(db, job, claims[job])
        runs = [r for r in maintenance_log(db, job) if start <= r["started_at"] <= end]
        assert math.floor(seconds / 4.1) <= len(runs) <= math.ceil(seconds / 2.97) + 1, (job, runs)


def test_retention_runs_log_what_they_did(replicas):
    db = replicas[0]
    rows = maintenance_log(db, "retention")
    assert rows
    for row in rows:
        assert all(isinstance(row["details"].get(key), int) for key in RETENTION_COUNTS), row["details"]
        assert row["finished_at"] >= row["started_at"]


def test_every_run_is_owned_by_host_and_pid(replicas):
    db, servers, start = replicas[0], replicas[1], replicas[2]
    owners = {server_owner(s) for s in servers}
    rows = maintenance_log(db)
    # With metrics off each replica also assembles MCP calls, claimed once per refresh interval
    # (60 s): whether one of those runs falls inside the 15 s window depends on timing.
    # Compaction logs a run only when it rewrote a day: each closed day once among all
    # replicas (the fixture's day before yesterday, and yesterday from 01:00 UTC on).
    assert set(CLEANUP_JOBS) <= {r["job"] for r in rows} <= set(CLEANUP_JOBS) | {"calls", "compaction"}
    compacted = sum(r["details"]["partitions_compacted"] for r in rows if r["job"] == "compaction")
    assert 1 <= days_due(db, start) <= compacted <= days_due(db, db_now(db)), rows
    assert {(r["job"], r["owner"]) for r in rows if r["owner"] not in owners} == set()


def test_another_replica_takes_over_when_the_owner_dies(replicas):
    db, servers = replicas[0], replicas[1]
    last = db.one("SELECT last_started_at, last_owner FROM observability_internal.maintenance_jobs "
                  "WHERE job = 'retention'")
    victim = next(s for s in servers if s.pid == owner_pid(last["last_owner"]))
    survivors = {server_owner(s) for s in servers if s is not victim}
    victim.kill()
    killed_at = db_now(db)
    claims = watch_claims(db, 2 * INTERVAL + 1.5)

    for job in CLEANUP_JOBS:
        after = [c for c in claims[job] if c[0] > killed_at]
        assert after and {owner for _, owner in after} <= survivors, (job, claims[job])
        assert (after[0][0] - killed_at).total_seconds() <= 2 * INTERVAL, (job, killed_at, after)
        assert min(gaps(claims[job]), default=CLAIM_EVERY) >= CLAIM_EVERY, (job, claims[job])
        assert_one_run_per_claim(db, job, after)


# MARK: Bounded storage


def test_storage_stays_bounded_under_demo_load(make_database, start_server):
    """OBSERVABILITY_MAX_TRACES=300 and a 2 s interval against 1,500 demo traces; self-tracing
    is off so that only the demo's traces count."""
    db = make_database()
    server = start_server(db, OBSERVABILITY_MAX_TRACES="300", OBSERVABILITY_CLEANUP_INTERVAL="2s",
                          OBSERVABILITY_ENABLED="false", OBSERVABILITY_METRICS_ENABLED="false")
    before_demo = db_now(db)
    demo = run_observatory("demo", "--url", server.base_url, "--traces", "1500", "--batch", "50",
                           "--concurrency", "2", "--spread", "600", env=clean_environment(), timeout=180)
    assert demo.returncode == 0, demo.stderr
    sent = re.search(r"Sent 1500 traces \((\d+) spans\).* 0 spans rejected", demo.stdout)
    assert sent, demo.stdout
    sent_spans = int(sent.group(1))

    def settled():
        traces = db.scalar("SELECT count(*) FROM observability.traces")
        orphans = db.scalar("SELECT count(*) FROM observability.spans s WHERE NOT EXISTS "
                            "(SELECT 1 FROM observability.traces t WHERE t.trace_id = s.trace_id)")
        deleted = db.one("SELECT coalesce(sum((details->>'traces_deleted')::bigint), 0) AS traces, "
                         "coalesce(sum((details->>'spans_deleted')::bigint), 0) AS spans "
                         "FROM observability.maintenance_log WHERE job = 'retention'")
        state = (traces, orphans, deleted["traces"], deleted["spans"])
        return state if (traces, orphans, deleted["traces"]) == (300, 0, 1200) else None

    _, _, _, spans_deleted = wait_for(settled, "300 traces left, no orphan span, 1,200 logged as deleted",
                                      timeout=12, interval=0.25)
    assert spans_deleted + db.scalar("SELECT count(*) FROM observability.spans") == sent_spans

    # The newest 300 are kept: the demo starts trace n at now - 600 s + n * 0.4 s, so they
    # are 300 consecutive starts (299 steps of 0.4 s), the last one 0.4 s before the demo began.
    kept = db.one("SELECT min(start_time) AS first, max(start_time) AS last FROM observability.traces")
    assert kept["last"] - kept["first"] == timedelta(seconds=299 * 0.4), kept
    assert before_demo - timedelta(seconds=0.4) <= kept["last"] <= db_now(db), (before_demo, kept)


# MARK: run-once


LINE = re.compile(r"^(\w+) (ok|skipped|failed) (\d+) ms((?: \w+=\S+)*)$")


def run_once(db, *flags: str, **env: str):
    result = run_observatory("maintenance", "run-once", *flags,
                             env=clean_environment(OBSERVABILITY_DATABASE_URL=db.url, **env), timeout=60)
    reports = {}
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        assert match, f"unexpected output line {line!r}"
        job, outcome, _, counts = match.groups()
        assert job not in reports, result.stdout
        reports[job] = (outcome, dict(pair.split("=", 1) for pair in counts.split()))
    return result, reports


def insert_recent_traces(db, count: int) -> None:
    """`count` one-span traces started in the last minute, as ingest would store them."""
    db.execute("""
        WITH src AS (SELECT gen_random_uuid() AS trace_id, now() - make_interval(secs => g) AS t0
                     FROM generate_series(1, %s) g),
        trace_rows AS (
            INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time,
                                              end_time, span_count, error_count)
            SELECT trace_id, 1, 'POST /mcp', 'gateway', t0, t0 + interval '10 ms', 1, 0 FROM src)
        INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target,
                                         service_name, start_time, end_time, duration_ms, status)
        SELECT trace_id, 1, NULL, 'POST /mcp', 'server', 'http_request', 'POST /mcp', 'gateway',
               t0, t0 + interval '10 ms', 10, 'ok' FROM src
        """, count)


def test_run_once_runs_every_job_and_applies_the_limits(make_database):
    db = make_database()
    insert_recent_traces(db, 5)
    result, reports = run_once(db, OBSERVABILITY_MAX_TRACES="3")
    assert result.returncode == 0, result.stderr
    assert list(reports) == ["partitions", "retention", "compaction", "calls", "rollup", "refresh_1h", "refresh_24h", "refresh_7d",
                             "refresh_30d"], result.stdout  # a fresh database: every window is due
    assert reports["partitions"][0] == "ok"
    outcome, counts = reports["retention"]
    assert outcome == "ok"
    # partitions_dropped counts yesterday's empty partition too: the cap's bound is today.
    assert counts["partitions_dropped"].isdigit()
    assert {k: counts[k] for k in ("spans_deleted", "traces_deleted", "traces_remaining")} == {
        "spans_deleted": "2", "traces_deleted": "2", "traces_remaining": "3"}
    assert reports["rollup"][0] in ("ok", "skipped")
    # The traces were written by SQL a moment ago: within the settle margin, no call yet.
    assert reports["calls"][0] in ("ok", "skipped")
    assert all(reports[f"refresh_{w}"][0] == "ok" for w in ("1h", "24h", "7d", "30d"))
    assert db.scalar("SELECT count(*) FROM observability.traces") == 3

    logged = maintenance_log(db, "retention")
    assert len(logged) == 1 and logged[0]["details"]["traces_deleted"] == 2
    # One owner, host:pid of the run-once process, for every job it ran.
    owners = {r["owner"] for r in maintenance_log(db)}
    assert len(owners) == 1 and re.fullmatch(rf"{re.escape(short_hostname())}[^:]*:\d+", owners.pop()), owners


def test_run_once_force_refresh_refreshes_every_window(make_database):
    db = make_database()
    assert run_once(db)[0].returncode == 0
    result, reports = run_once(db)  # just refreshed: no window is due
    assert result.returncode == 0 and not any(job.startswith("refresh_") for job in reports), result.stdout
    result, reports = run_once(db, "--force-refresh")
    assert result.returncode == 0, result.stderr
    assert {job: outcome for job, (outcome, _) in reports.items() if job.startswith("refresh_")} == {
        "refresh_1h": "ok", "refresh_24h": "ok", "refresh_7d": "ok", "refresh_30d": "ok"}


def test_run_once_refuses_a_bad_configuration(make_database):
    db = make_database()
    result, reports = run_once(db, OBSERVABILITY_TRACE_RETENTION_DAYS="0")
    assert result.returncode == EX_CONFIG, (result.stdout, result.stderr)
    assert reports == {}
    assert "OBSERVABILITY_TRACE_RETENTION_DAYS" in result.stderr
    assert maintenance_log(db) == []

"""Retention and maintenance bookkeeping (migrations/0008, 0009) on a real PostgreSQL.

apply_retention() deletes what is dated past the clock plus max_future_skew() (0009),
then by age (whole daily partitions where it can, rows elsewhere), and caps the number
of traces (oldest first, whole traces), logs what it did, and steps
aside for a concurrent run; claim_maintenance_job() lets one replica of several run a
job per interval; log_maintenance_run() records every job's run, retention's included
(the last two in schema observability_internal since 0010).

Data is written straight into observability.spans and traces with generate_series, and
every clock is pinned (in the past, so the partitions the migration creates for today
never overlap the test's days): nothing sleeps.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from harness import REPO_ROOT, clean_environment, run_observatory

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)
RETENTION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('observability.apply_retention'))"

# The FIFO test: 150,000 two-span traces over the 10 days up to NOW, mostly three to a
# start time, every tenth with its second span three hours after its start (so some
# victims still run past the newest victim). Trace i starts at step (i + 2) // 3: the
# cap cuts through a tie, keeping two of its three traces, so trace_id decides (and a
# descending-id mistake would keep a different number of them).
FIFO_TRACES = 150_000
FIFO_KEEP = 100_000
FIFO_STEP = timedelta(microseconds=17_280_000)  # 10 days / 50,000 start times


# MARK: Helpers


def insert_traces(db, source: str, *params) -> None:
    """Writes one trace of two spans per row of `source`, a query of (trace_id uuid, t0
    timestamptz, second_offset interval): a root span at t0 and a child span at t0 +
    second_offset, each 10 ms long, and the traces row that ingest_spans() would keep."""
    db.execute(f"""
        WITH src (trace_id, t0, second_offset) AS ({source}),
        trace_rows AS (
            INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time,
                                              end_time, span_count, error_count)
            SELECT trace_id, 1, 'POST /mcp', 'gateway', t0, t0 + second_offset + interval '10 ms', 2, 0 FROM src
        )
        INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target,
                                         service_name, start_time, end_time, duration_ms, status)
        SELECT trace_id, 1, NULL, 'POST /mcp', 'server', 'http_request', 'POST /mcp', 'gateway',
               t0, t0 + interval '10 ms', 10, 'ok' FROM src
        UNION ALL
        SELECT trace_id, 2, 1, 'tools/call search', 'internal', 'tool_invoke', 'search', 'gateway',
               t0 + second_offset, t0 + second_offset + interval '10 ms', 10, 'ok' FROM src
        """, *params)


def ensure_partitions(db, days_back: int) -> None:
    db.execute("SELECT * FROM observability.ensure_partitions(p_days_back => %s, p_days_ahead => 1, p_now => %s)",
               days_back, NOW)


def daily_partitions(db) -> dict[str, datetime]:
    """Every spans_pYYYYMMDD partition and its upper bound (the next UTC midnight)."""
    names = db.rows("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'observability.spans'::regclass AND c.relname ~ '^spans_p[0-9]{8}$'")
    return {r["name"]: datetime.strptime(r["name"][7:], "%Y%m%d").replace(tzinfo=timezone.utc) + timedelta(days=1)
            for r in names}


def apply_retention(db, days: int, max_traces: int, now: datetime = NOW, *, application_name: str = "retention-test",
                    setup: str | None = None) -> list[dict]:
    """Calls apply_retention() on a connection of its own, named `application_name`."""
    with psycopg.connect(db.url, autocommit=True, row_factory=dict_row, application_name=application_name) as conn:
        if setup:
            conn.execute(setup)
        return conn.execute("SELECT * FROM observability.apply_retention(%s, %s, %s)",
                            (days, max_traces, now)).fetchall()


def totals(db) -> dict:
    return db.one("SELECT (SELECT count(*) FROM observability.spans) AS spans, "
                  "(SELECT count(*) FROM observability.traces) AS traces")


def orphan_spans(db) -> int:
    """Spans whose trace row is gone."""
    return db.scalar("SELECT count(*) FROM observability.spans s "
                     "WHERE NOT EXISTS (SELECT 1 FROM observability.traces t WHERE t.trace_id = s.trace_id)")


def log_row(db, log_id: int) -> dict:
    return db.one("SELECT * FROM observability.maintenance_log WHERE id = %s", log_id)


def fifo_id(i: int) -> str:
    """The trace id the FIFO data gives trace i, as PostgreSQL's md5('fifo-' || i)::uuid."""
    return str(uuid.UUID(hashlib.md5(f"fifo-{i}".encode()).hexdigest()))


# MARK: Cap (FIFO)


def test_cap_keeps_exactly_the_newest_traces(make_database):
    """150,000 traces, a cap of 100,000 and nothing old enough to expire: exactly the
    newest 100,000 by (start_time, trace_id) remain, each with both spans, no span of a
    removed trace is left, and the counts returned and logged are what was removed."""
    db = make_database()
    ensure_partitions(db, days_back=11)
    started = time.monotonic()
    insert_traces(db, """
        SELECT md5('fifo-' || i)::uuid AS trace_id,
               %s::timestamptz - interval '10 days' + make_interval(secs => ((i + 2) / 3) * 17.28) AS t0,
               CASE WHEN i %% 10 = 0 THEN interval '3 hours' ELSE interval '20 milliseconds' END AS second_offset
        FROM generate_series(0, %s - 1) AS i
        """, NOW, FIFO_TRACES)
    db.execute("VACUUM ANALYZE observability.traces")
    db.execute("ANALYZE observability.spans")
    generated = time.monotonic()

    # The expectation, computed here from the same recipe: uuid order is byte order, the
    # order of the lowercase hex text.
    order = sorted((((i + 2) // 3, fifo_id(i)) for i in range(FIFO_TRACES)), reverse=True)
    expected = {trace for _, trace in order[:FIFO_KEEP]}
    newest_victim_start = NOW - timedelta(days=10) + order[FIFO_KEEP][0] * FIFO_STEP
    partitions_before = daily_partitions(db)
    before = totals(db)
    assert before == {"spans": 2 * FIFO_TRACES, "traces": FIFO_TRACES}
    # Some victims still have a span after the newest victim's start: the lookup by trace id is exercised.
    assert db.scalar("SELECT count(*) FROM observability.spans s JOIN observability.traces t USING (trace_id) "
                     "WHERE t.trace_id <> ALL(%s::uuid[]) AND s.start_time >= %s",
                     list(expected), newest_victim_start) > 0

    calling = time.monotonic()
    # The newest traces run until NOW + 3 h: retention runs after they ended, as it would
    # live (at NOW it would remove them as future-dated, see future_data below).
    ran_at = NOW + timedelta(hours=3, minutes=1)
    [result] = apply_retention(db, days=30, max_traces=FIFO_KEEP, now=ran_at)
    retained = time.monotonic()

    after = totals(db)
    remaining = {r["t"] for r in db.rows("SELECT trace_id::text AS t FROM observability.traces")}
    assert remaining == expected
    assert after == {"spans": 2 * FIFO_KEEP, "traces": FIFO_KEEP}
    assert db.scalar("SELECT count(*) FROM (SELECT trace_id FROM observability.spans GROUP BY trace_id "
                     "HAVING count(*) = 2) kept") == FIFO_KEEP, "every remaining trace keeps both its spans"
    assert orphan_spans(db) == 0

    dropped = set(partitions_before) - set(daily_partitions(db))
    assert dropped == {name for name, upper in partitions_before.items() if upper <= newest_victim_start}
    assert len(dropped) >= 3, "the cap drops the partitions wholly older than the newest victim"
    assert result["partitions_dropped"] == len(dropped)
    assert result["spans_deleted"] == before["spans"] - after["spans"]
    assert result["traces_deleted"] == before["traces"] - after["traces"]
    assert result["traces_remaining"] == after["traces"]

    log = log_row(db, result["log_id"])
    assert log["job"] == "retention" and log["owner"] == "retention-test"
    assert log["details"] == {
        "retention_days": 30, "max_traces": FIFO_KEEP,
        "cutoff": db.scalar("SELECT to_jsonb(%s::timestamptz - interval '30 days')", ran_at),
        "future_bound": db.scalar("SELECT to_jsonb(%s::timestamptz + interval '1 hour')", ran_at), "traces_future": 0,
        "fifo_bound": db.scalar("SELECT to_jsonb(%s::timestamptz)", newest_victim_start),
        "partitions_dropped": len(dropped), "partitions_skipped": 0,
        "spans_deleted": before["spans"] - after["spans"],
        "traces_deleted": before["traces"] - after["traces"], "traces_evicted": FIFO_TRACES - FIFO_KEEP,
        "traces_remaining": FIFO_KEEP,
        # The calls partitions of the dropped days go with them (0011); no call to count.
        "call_partitions_dropped": len(dropped), "calls_deleted": 0,
        "max_self_traces": 10000, "self_traces_evicted": 0, "self_traces_remaining": 0,
    }
    assert 0 <= log["duration_ms"] <= (retained - calling) * 1000
    print(f"\n150k FIFO: generate {generated - started:.1f} s, apply_retention {retained - calling:.2f} s "
          f"(logged {log['duration_ms']:.0f} ms)")


# MARK: Age


def age_data(db) -> dict:
    """20 days of traces (one every 20 minutes, second span 5 minutes after the first),
    a trace straddling the 7-day cutoff, and spans in spans_default both 25 days old and
    10 days in the future. Returns the cutoff and the special trace ids."""
    cutoff = NOW - timedelta(days=7)
    ensure_partitions(db, days_back=20)
    insert_traces(db, """
        SELECT md5('age-' || i)::uuid, %s::timestamptz - interval '20 days' + i * interval '20 minutes'
                                        + interval '7 minutes', interval '5 minutes'
        FROM generate_series(0, 20 * 72 - 1) AS i
        """, NOW)
    ids = {"straddling": "5d000000-0000-4000-8000-000000000001",
           "old_default": "5d000000-0000-4000-8000-000000000002",
           "future_default": "5d000000-0000-4000-8000-000000000003"}
    insert_traces(db, "SELECT %s::uuid, %s::timestamptz - interval '1 hour', interval '2 hours'",
                  ids["straddling"], cutoff)
    insert_traces(db, "SELECT %s::uuid, %s::timestamptz - interval '25 days', interval '1 minute'",
                  ids["old_default"], NOW)
    insert_traces(db, "SELECT %s::uuid, %s::timestamptz + interval '10 days', interval '1 minute'",
                  ids["future_default"], NOW)
    in_default = db.rows("SELECT trace_id::text AS t, count(*) AS n FROM observability.spans_default GROUP BY 1")
    assert {r["t"]: r["n"] for r in in_default} == {ids["old_default"]: 2, ids["future_default"]: 2}
    return {"cutoff": cutoff, **ids}


def test_age_drops_old_partitions_and_trims_the_boundary(make_database):
    """Retention 7 days over 20 days of data: partitions wholly before the cutoff are
    dropped, the boundary day and spans_default lose only what is older than the cutoff
    (and the trace dated 10 days ahead, past the future skew), traces that ended before
    it go, a straddling trace keeps its row and newer span."""
    db = make_database()
    data = age_data(db)
    cutoff = data["cutoff"]
    partitions_before = daily_partitions(db)
    boundary = "spans_p" + cutoff.strftime("%Y%m%d")
    before = totals(db)
    ceiling = NOW + timedelta(hours=1)
    newer_spans = db.scalar("SELECT count(*) FROM observability.spans WHERE start_time BETWEEN %s AND %s",
                            cutoff, ceiling)
    newer_span_rows = db.rows("SELECT trace_id, span_id, start_time FROM observability.spans "
                              "WHERE start_time BETWEEN %s AND %s ORDER BY 1, 2", cutoff, ceiling)
    live_traces = db.scalar("SELECT count(*) FROM observability.traces WHERE end_time BETWEEN %s AND %s",
                            cutoff, ceiling)
    assert db.scalar(f"SELECT count(*) FROM observability.{boundary} WHERE start_time < %s", cutoff) > 0

    [result] = apply_retention(db, days=7, max_traces=1_000_000)

    after = totals(db)
    partitions_after = daily_partitions(db)
    dropped = set(partitions_before) - set(partitions_after)
    assert dropped == {name for name, upper in partitions_before.items() if upper <= cutoff}
    assert len(dropped) == 13, sorted(dropped)
    assert boundary in partitions_after
    assert db.scalar(f"SELECT min(start_time) FROM observability.{boundary}") >= cutoff
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE start_time < %s", cutoff) == 0

    assert db.rows("SELECT trace_id, span_id, start_time FROM observability.spans "
                   "WHERE start_time >= %s ORDER BY 1, 2", cutoff) == newer_span_rows
    assert after["spans"] == newer_spans
    assert db.scalar("SELECT count(*) FROM observability.traces WHERE end_time < %s", cutoff) == 0
    assert after["traces"] == live_traces

    straddling = db.rows("SELECT s.span_id FROM observability.traces t "
                         "JOIN observability.spans s USING (trace_id) WHERE t.trace_id = %s", data["straddling"])
    assert straddling == [{"span_id": 2}], "the straddling trace keeps its row and its newer span only"
    assert db.rows("SELECT trace_id::text AS t FROM observability.spans_default") == []
    for gone in ("old_default", "future_default"):
        assert db.scalar("SELECT count(*) FROM observability.traces WHERE trace_id = %s", data[gone]) == 0, gone

    assert result["partitions_dropped"] == len(dropped)
    assert result["spans_deleted"] == before["spans"] - after["spans"]
    assert result["traces_deleted"] == before["traces"] - after["traces"]
    assert result["traces_remaining"] == after["traces"]
    details = log_row(db, result["log_id"])["details"]
    assert details["partitions_skipped"] == 0 and details["fifo_bound"] is None
    assert details["spans_deleted"] == result["spans_deleted"]
    assert details["traces_future"] == 1
    assert details["future_bound"] == db.scalar("SELECT to_jsonb(%s::timestamptz)", ceiling)


def test_second_run_is_harmless(make_database):
    """The same retention twice: the second run deletes nothing and still logs a row."""
    db = make_database()
    age_data(db)
    [first] = apply_retention(db, days=7, max_traces=300)
    assert first["spans_deleted"] > 0 and first["traces_remaining"] == 300
    kept = totals(db)

    [second] = apply_retention(db, days=7, max_traces=300)

    assert totals(db) == kept
    assert {k: second[k] for k in ("partitions_dropped", "spans_deleted", "traces_deleted", "traces_remaining")} == {
        "partitions_dropped": 0, "spans_deleted": 0, "traces_deleted": 0, "traces_remaining": 300}
    assert second["log_id"] > first["log_id"]
    assert db.scalar("SELECT count(*) FROM observability.maintenance_log WHERE job = 'retention'") == 2
    assert log_row(db, second["log_id"])["details"]["spans_deleted"] == 0


# MARK: Future-dated data (0009)


def future_data(db) -> dict:
    """20 current traces, one every 10 minutes up to NOW; one 30 minutes ahead (within
    the skew: kept, and the newest); future-dated ones beyond it: starting 2 h, 3 days
    and 500 years ahead, and one that started an hour ago but ends in 2554."""
    ensure_partitions(db, days_back=1)
    insert_traces(db, """
        SELECT md5('current-' || i)::uuid, %s::timestamptz - i * interval '10 minutes', interval '1 second'
        FROM generate_series(0, 19) AS i
        """, NOW)
    ids = {"near": "fd000000-0000-4000-8000-000000000001", "in_2h": "fd000000-0000-4000-8000-000000000002",
           "in_3d": "fd000000-0000-4000-8000-000000000003", "in_2524": "fd000000-0000-4000-8000-000000000004",
           "ends_2554": "fd000000-0000-4000-8000-000000000005"}
    insert_traces(db, "SELECT %s::uuid, %s::timestamptz + interval '30 minutes', interval '1 second'", ids["near"], NOW)
    insert_traces(db, "SELECT %s::uuid, %s::timestamptz + interval '2 hours', interval '1 second'", ids["in_2h"], NOW)
    insert_traces(db, "SELECT %s::uuid, %s::timestamptz + interval '3 days', interval '1 second'", ids["in_3d"], NOW)
    insert_traces(db, "SELECT %s::uuid, %s::timestamptz + interval '500 years', interval '1 second'",
                  ids["in_2524"], NOW)
    insert_traces(db, "SELECT %s::uuid, %s::timestamptz - interval '1 hour', "
                      "'2554-07-21 23:34:33.709551+00'::timestamptz - (%s::timestamptz - interval '1 hour')",
                  ids["ends_2554"], NOW, NOW)
    return ids


def test_future_traces_go_first_and_never_count_as_newest(make_database):
    """A cap of 10 over 20 current traces and 4 future-dated ones: the future-dated go
    whole (row and every span, even the one that started an hour ago), and the 10 kept
    are the newest by the clock: the one within the skew and the 9 newest current ones.
    Before 0009 the cap kept the four from the future and only six current ones."""
    db = make_database()
    ids = future_data(db)
    future = {ids[k] for k in ("in_2h", "in_3d", "in_2524", "ends_2554")}
    expected = {ids["near"]} | {db.scalar("SELECT md5('current-' || %s)::uuid::text", i) for i in range(9)}
    before = totals(db)

    [result] = apply_retention(db, days=7, max_traces=10)

    kept = {r["t"] for r in db.rows("SELECT trace_id::text AS t FROM observability.traces")}
    assert kept == expected
    assert orphan_spans(db) == 0
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE trace_id::text = ANY(%s)", list(future)) == 0
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE start_time > %s", NOW + timedelta(hours=1)) == 0
    assert totals(db) == {"spans": 20, "traces": 10}
    assert result["traces_deleted"] == before["traces"] - 10 and result["traces_remaining"] == 10
    assert result["spans_deleted"] == before["spans"] - 20
    details = log_row(db, result["log_id"])["details"]
    assert details["traces_future"] == 4 and details["traces_evicted"] == 11

    [again] = apply_retention(db, days=7, max_traces=10)
    assert (again["spans_deleted"], again["traces_deleted"]) == (0, 0)


def test_future_skew_matches_the_service():
    """max_future_skew() is the SQL copy of SpanTimeRange.maxFutureSkewSeconds."""
    source = (REPO_ROOT / "Sources/ObservatoryStore/SpanTimeRange.swift").read_text()
    seconds = int(re.search(r"maxFutureSkewSeconds: Int64 = ([0-9_]+)", source).group(1).replace("_", ""))
    migration = (REPO_ROOT / "migrations/0009_remove_future_traces.sql").read_text()
    assert re.search(r"SELECT interval '(\d+) hours?'", migration).group(1) == str(seconds // 3600)
    assert seconds % 3600 == 0


def test_migration_0009_upgrades_a_store_with_data(make_database):
    """A store at 0008 with current and future-dated data migrates to head: nothing is
    lost by the migration itself; the next retention run removes the future-dated."""
    db = make_database(migrate=False)
    with tempfile.TemporaryDirectory() as old:
        for path in sorted((REPO_ROOT / "migrations").glob("*.sql")):
            if path.name < "0009":
                shutil.copy(path, old)
        result = run_observatory("migrate", env=clean_environment(OBSERVABILITY_DATABASE_URL=db.url,
                                                                  OBSERVABILITY_MIGRATIONS_DIR=old))
        assert result.returncode == 0, result.stdout + result.stderr
    assert db.scalar("SELECT max(version) FROM observability.schema_migrations") == 8
    ids = future_data(db)
    before = totals(db)
    db.migrate()
    head = max(int(path.name[:4]) for path in (REPO_ROOT / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))
    assert head >= 9 and db.scalar("SELECT max(version) FROM observability.schema_migrations") == head
    assert totals(db) == before
    [result] = apply_retention(db, days=7, max_traces=100)
    assert totals(db) == {"spans": 42, "traces": 21}
    assert ids["near"] in {r["t"] for r in db.rows("SELECT trace_id::text AS t FROM observability.traces")}
    assert log_row(db, result["log_id"])["details"]["traces_future"] == 4


# MARK: Concurrency


def test_concurrent_run_returns_nothing_and_deletes_nothing(make_database):
    """While another session holds the retention lock, a call returns no row at once,
    deletes nothing and logs nothing; once the lock is released the same call works."""
    db = make_database()
    age_data(db)
    before = totals(db)
    with psycopg.connect(db.url, autocommit=False) as other:
        other.execute(RETENTION_LOCK)
        assert apply_retention(db, days=7, max_traces=1) == []
        assert totals(db) == before
        assert db.scalar("SELECT count(*) FROM observability.maintenance_log") == 0
        other.rollback()

    [result] = apply_retention(db, days=7, max_traces=1)
    assert result["traces_remaining"] == 1 and totals(db)["traces"] == 1


def test_busy_partitions_are_skipped_without_orphans(make_database):
    """A long query on spans blocks the drops: they are skipped after the session's short
    lock_timeout instead of queueing ingestion behind them. Partitions only expired by
    age keep their rows for the next run; those the cap needs gone are emptied row by
    row, so no span of an evicted trace is left. The next run drops them all."""
    db = make_database()
    data = age_data(db)
    cutoff = data["cutoff"]
    # About 4 days' worth of traces: the cap's bound lies 3 days after the cutoff.
    cap = 4 * 72
    partitions_before = daily_partitions(db)
    age_only = {name for name, upper in partitions_before.items() if upper <= cutoff}
    # The trace dated 10 days ahead goes first, and is never among the survivors.
    bound = db.scalar("SELECT start_time FROM observability.traces WHERE end_time >= %s "
                      "AND end_time <= %s::timestamptz + interval '1 hour' "
                      "ORDER BY start_time DESC, trace_id DESC OFFSET %s LIMIT 1", cutoff, NOW, cap)
    for_cap = {name for name, upper in partitions_before.items() if cutoff < upper <= bound}
    assert len(for_cap) >= 2, sorted(for_cap)
    before = totals(db)

    with psycopg.connect(db.url, autocommit=False) as reader:
        reader.execute("SELECT count(*) FROM observability.spans")  # holds its lock until rollback
        started = time.monotonic()
        [result] = apply_retention(db, days=7, max_traces=cap, setup="SET lock_timeout = '200ms'")
        elapsed = time.monotonic() - started
        reader.rollback()

    assert elapsed < 3, f"one short lock wait, not one per partition ({elapsed:.1f} s)"
    assert result["partitions_dropped"] == 0
    assert set(daily_partitions(db)) == set(partitions_before)
    details = log_row(db, result["log_id"])["details"]
    assert details["partitions_skipped"] == len(age_only) + len(for_cap)
    for name in for_cap:
        assert db.scalar(f"SELECT count(*) FROM observability.{name}") == 0, name
    assert sum(db.scalar(f"SELECT count(*) FROM observability.{name}") for name in age_only) > 0
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE start_time >= %s", cutoff) == \
        db.scalar("SELECT count(*) FROM observability.spans s JOIN observability.traces t USING (trace_id)")
    assert db.scalar("SELECT count(*) FROM observability.traces") == cap
    assert result["spans_deleted"] == before["spans"] - totals(db)["spans"]

    # The emptied partitions stay until the age cutoff passes them; the expired ones go now.
    [again] = apply_retention(db, days=7, max_traces=cap)
    assert again["partitions_dropped"] == len(age_only)
    assert set(partitions_before) - set(daily_partitions(db)) == age_only
    assert orphan_spans(db) == 0


# MARK: Validation and bookkeeping


@pytest.mark.parametrize("days, max_traces, message", [
    (0, 10, "retention days must be between 1 and 3650, not 0"),
    (3651, 10, "retention days must be between 1 and 3650, not 3651"),
    (7, 0, "max traces must be at least 1, not 0"),
])
def test_invalid_arguments_are_refused(db, days, max_traces, message):
    """Out-of-range settings raise invalid_parameter_value with a message naming the value."""
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        apply_retention(db, days=days, max_traces=max_traces)


def test_old_log_rows_are_trimmed(db):
    """Each retention run deletes log rows older than 90 days before p_now."""
    db.execute("INSERT INTO observability.maintenance_log (job, owner, started_at, finished_at) VALUES "
               "('trim-test', 'me', %s::timestamptz - interval '91 days', %s::timestamptz - interval '91 days'), "
               "('trim-test', 'me', %s::timestamptz - interval '89 days', %s::timestamptz - interval '89 days')",
               NOW, NOW, NOW, NOW)
    apply_retention(db, days=7, max_traces=10, now=NOW)
    kept = db.rows("SELECT started_at FROM observability.maintenance_log WHERE job = 'trim-test'")
    assert kept == [{"started_at": NOW - timedelta(days=89)}]


def claim(db, job: str, every: str, owner: str, now: datetime) -> bool:
    return db.scalar("SELECT observability_internal.claim_maintenance_job(%s, %s::interval, %s, %s)", job, every, owner, now)


def test_claim_once_per_interval(db):
    """The first claim wins; another owner at the same moment, and anyone one second
    before the interval has passed, lose; at the interval anyone wins again."""
    assert claim(db, "claim-test", "10 minutes", "replica-a", NOW) is True
    assert claim(db, "claim-test", "10 minutes", "replica-b", NOW) is False
    assert claim(db, "claim-test", "10 minutes", "replica-b", NOW + timedelta(minutes=10, seconds=-1)) is False
    assert claim(db, "claim-test", "10 minutes", "replica-b", NOW + timedelta(minutes=10)) is True
    row = db.one("SELECT last_started_at, last_owner FROM observability_internal.maintenance_jobs "
                 "WHERE job = 'claim-test'")
    assert row == {"last_started_at": NOW + timedelta(minutes=10), "last_owner": "replica-b"}


def test_claim_loses_while_another_session_claims(db):
    """A claim of the same job in progress elsewhere (its advisory lock) makes this one lose at once."""
    with psycopg.connect(db.url, autocommit=False) as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtext('observability.job.' || 'busy-test'))")
        assert claim(db, "busy-test", "1 minute", "replica-a", NOW) is False
        other.rollback()
    assert claim(db, "busy-test", "1 minute", "replica-a", NOW) is True


@pytest.mark.parametrize("job, every, message", [
    ("claim-test", "0 seconds", "interval of job claim-test must be greater than zero"),
    ("claim-test", "-1 minute", "interval of job claim-test must be greater than zero"),
    ("", "1 minute", "job name must not be empty"),
])
def test_claim_refuses_bad_arguments(db, job, every, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        claim(db, job, every, "replica-a", NOW)


def test_log_maintenance_run(db):
    """A logged run has its duration from the two times, its details, and marks the job finished."""
    finished = NOW + timedelta(seconds=2.5)
    log_id = db.scalar("SELECT observability_internal.log_maintenance_run('partitions', 'replica-a', %s, %s, %s)",
                       NOW, '{"created": ["spans_p20240316"]}', finished)
    row = log_row(db, log_id)
    assert (row["job"], row["owner"], row["started_at"], row["finished_at"]) == ("partitions", "replica-a", NOW, finished)
    assert row["duration_ms"] == 2500.0
    assert row["details"] == {"created": ["spans_p20240316"]}
    assert db.scalar("SELECT last_finished_at FROM observability_internal.maintenance_jobs "
                     "WHERE job = 'partitions'") == finished

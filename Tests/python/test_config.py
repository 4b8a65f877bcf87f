"""The binary's start-up contract: bad configuration is refused with one line per problem
and exit status 78; `serve` refuses a database that is behind; `migrate` is idempotent
and `migrate status` says where the schema stands."""

from __future__ import annotations

import re
import subprocess

from harness import REPO_ROOT, Server, clean_environment, free_port, observatory_binary, run_observatory

EX_CONFIG = 78
MIGRATION_FILES = sorted(p.stem for p in (REPO_ROOT / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))


def test_invalid_settings_are_all_reported_with_exit_78(db):
    bad = {
        "OBSERVABILITY_PORT": "70000",
        "OBSERVABILITY_SAMPLE_RATE": "1.5",
        "OBSERVABILITY_MAX_BODY_BYTES": "10",
        "OBSERVABILITY_WRITER_QUEUE_SPANS": "5",
        "OBSERVABILITY_EVENTS_ENABLED": "maybe",
        "OBSERVABILITY_LOG_LEVEL": "loud",
        "OBSERVABILITY_EXCLUDE_PATHS": "/ok,/broken(",
        "OBSERVABILITY_BATCH_MAX_WAIT_MS": "-1",
    }
    for command in (["serve"], ["migrate"]):
        result = run_observatory(*command, env=clean_environment(OBSERVABILITY_DATABASE_URL=db.url, **bad), timeout=30)
        assert result.returncode == EX_CONFIG, (command, result.returncode, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == len(bad), (command, lines)
        for variable in bad:
            assert sum(variable in line for line in lines) == 1, (variable, lines)
        assert any("/broken(" in line for line in lines)
        assert "1.5" in result.stderr and "loud" in result.stderr


def test_bad_database_url_is_a_configuration_error():
    result = run_observatory("serve", env=clean_environment(OBSERVABILITY_DATABASE_URL="mysql://nope"), timeout=30)
    assert result.returncode == EX_CONFIG, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "OBSERVABILITY_DATABASE_URL" in result.stderr

    missing = run_observatory("serve", env=clean_environment(), timeout=30)
    assert missing.returncode == EX_CONFIG, missing.stderr
    assert "OBSERVABILITY_DATABASE_URL" in missing.stderr


def test_bad_read_database_url_is_a_configuration_error(db):
    """A malformed OBSERVABILITY_READ_DATABASE_URL stops `serve` with one line naming it,
    before any database is contacted; the primary's URL is fine."""
    result = run_observatory("serve", env=clean_environment(
        OBSERVABILITY_DATABASE_URL=db.url, OBSERVABILITY_READ_DATABASE_URL="postgres://standby:0/obs",
        OBSERVABILITY_PORT=str(free_port())), timeout=30)
    assert result.returncode == EX_CONFIG, result.stderr
    assert result.stderr.strip().splitlines() == [
        "configuration error: OBSERVABILITY_READ_DATABASE_URL is not a usable PostgreSQL URL: "
        "the port must be from 1 to 65535"]


def test_serve_refuses_an_unmigrated_database(make_database):
    empty = make_database(migrate=False)
    env = clean_environment(OBSERVABILITY_DATABASE_URL=empty.url, OBSERVABILITY_PORT=str(free_port()))
    result = run_observatory("serve", env=env, timeout=30)
    assert result.returncode not in (0, EX_CONFIG), result
    assert "observatory migrate" in result.stderr + result.stdout
    for identifier in MIGRATION_FILES:
        assert identifier in result.stderr + result.stdout  # it names what is pending
    assert empty.scalar("SELECT to_regclass('observability.spans')") is None, "serve must not migrate"


def test_migrate_status_then_migrate_twice(make_database):
    fresh = make_database(migrate=False)
    env = clean_environment(OBSERVABILITY_DATABASE_URL=fresh.url)
    assert MIGRATION_FILES, "no migrations found"

    before = run_observatory("migrate", "status", env=env)
    assert before.returncode == 1, before
    assert re.findall(r"^(\w+)\s+(\S+)$", before.stdout, re.M) == [("pending", m) for m in MIGRATION_FILES]

    first = run_observatory("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert [m for m in MIGRATION_FILES if f"applied {m}" in first.stdout] == MIGRATION_FILES
    applied = fresh.rows("SELECT version, name, checksum FROM observability.schema_migrations ORDER BY version")
    assert len(applied) == len(MIGRATION_FILES)

    second = run_observatory("migrate", env=env)
    assert second.returncode == 0, second.stderr
    assert "applied " not in second.stdout, second.stdout
    assert "up to date" in second.stdout
    assert fresh.rows("SELECT version, name, checksum FROM observability.schema_migrations ORDER BY version") == applied

    status = run_observatory("migrate", "status", env=env)
    assert status.returncode == 0, status
    assert re.findall(r"^(\w+)\s+(\S+)$", status.stdout, re.M) == [("applied", m) for m in MIGRATION_FILES]

    # And now serve starts on it.
    server = Server(fresh.url).start()
    try:
        assert server.healthy()
    finally:
        server.stop()
        server.remove_log()


def test_two_migrations_at_once_apply_each_file_once(make_database):
    fresh = make_database(migrate=False)
    env = clean_environment(OBSERVABILITY_DATABASE_URL=fresh.url)
    processes = [subprocess.Popen([str(observatory_binary()), "migrate"], env=env, cwd=REPO_ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(60), *p.communicate()) for p in processes]
    assert [code for code, _, _ in results] == [0, 0], results
    applied_lines = [line for _, out, _ in results for line in out.splitlines() if line.startswith("applied ")]
    assert sorted(applied_lines) == [f"applied {m}" for m in MIGRATION_FILES]
    assert fresh.scalar("SELECT count(*) FROM observability.schema_migrations") == len(MIGRATION_FILES)

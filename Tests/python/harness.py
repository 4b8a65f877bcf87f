"""Processes and databases for the live-service tests.

`Database` creates, migrates, queries and drops one PostgreSQL database; `Server` runs
one `observatory serve` process on a free loopback port with its log in a file. The
fixtures in conftest.py wire them up; tests that need an unusual setup (a second
replica, a second PostgreSQL cluster) use these classes directly.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from psycopg import sql
from psycopg.rows import dict_row

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable"

#: Every server started in this session, so a failed test can show their logs.
STARTED_SERVERS: list["Server"] = []


def observatory_binary() -> Path:
    """`OBSERVATORY_BIN`, default `.build/debug/observatory` under the repository root."""
    path = Path(os.environ.get("OBSERVATORY_BIN", REPO_ROOT / ".build" / "debug" / "observatory"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def admin_url() -> str:
    """`OBSERVABILITY_TEST_ADMIN_URL`: a superuser URL of the cluster the tests create databases in."""
    return os.environ.get("OBSERVABILITY_TEST_ADMIN_URL", DEFAULT_ADMIN_URL)


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead of its own."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query or "sslmode=disable", ""))


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports. Every socket stays bound until all are chosen: two
    calls of free_port() in a row once got the same port back, and the server refused to
    start with HTTP and gRPC on one port."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


def clean_environment(**extra: str) -> dict[str, str]:
    """The test process's environment without any OBSERVABILITY_* or DATABASE_URL
    setting of the developer's shell, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBSERVABILITY_") and k != "DATABASE_URL"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_observatory(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs the binary to completion (migrate, migrate status, a serve that must refuse)."""
    return subprocess.run(
        [str(observatory_binary()), *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )


class Database:
    """One PostgreSQL database; every call opens its own autocommit connection, so a
    restarted PostgreSQL costs nothing more than the failed calls while it was down."""

    def __init__(self, url: str, name: str, admin: str):
        self.url = url
        self.name = name
        self.admin = admin

    @classmethod
    def create(cls, admin: str | None = None, migrate: bool = True) -> "Database":
        admin = admin or admin_url()
        name = "obs_py_" + secrets.token_hex(6)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        database = cls(with_database(admin, name), name, admin)
        if migrate:
            database.migrate()
        return database

    def migrate(self) -> subprocess.CompletedProcess:
        result = run_observatory("migrate", env=clean_environment(OBSERVABILITY_DATABASE_URL=self.url))
        if result.returncode != 0:
            raise RuntimeError(f"observatory migrate failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def drop(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def rows(self, query: str, *params) -> list[dict]:
        with psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            cursor = conn.execute(query, params or None)
            return cursor.fetchall() if cursor.description else []

    def one(self, query: str, *params) -> dict | None:
        rows = self.rows(query, *params)
        assert len(rows) <= 1, f"expected at most one row, got {len(rows)}"
        return rows[0] if rows else None

    def scalar(self, query: str, *params):
        row = self.one(query, *params)
        return None if row is None else next(iter(row.values()))

    def execute(self, query: str, *params) -> None:
        self.rows(query, *params)


class Server:
    """One `observatory serve` process on 127.0.0.1 and a free port."""

    def __init__(self, database_url: str, env: dict[str, str] | None = None):
        # OTLP/gRPC on a free port of its own too: tests run several servers at once.
        self.port, self.grpc_port = free_ports(2)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.traces_url = self.base_url + "/v1/traces"
        self.spans_url = self.base_url + "/api/v1/spans"
        self.grpc_target = f"127.0.0.1:{self.grpc_port}"
        self.environment = clean_environment(
            OBSERVABILITY_DATABASE_URL=database_url,
            OBSERVABILITY_HOST="127.0.0.1",
            OBSERVABILITY_PORT=str(self.port),
            OBSERVABILITY_GRPC_PORT=str(self.grpc_port),
            **(env or {}),
        )
        handle, name = tempfile.mkstemp(prefix=f"observatory-{self.port}-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "server not started"
        return self.process.pid

    def start(self, timeout: float = 20.0) -> "Server":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(observatory_binary()), "serve"], env=self.environment, cwd=REPO_ROOT,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        STARTED_SERVERS.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"observatory serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"observatory serve did not answer /healthz within {timeout} s:\n{self.log()}")

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait; returns the exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise RuntimeError(f"observatory serve ignored SIGTERM for {timeout} s:\n{self.log()}")
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self, last_lines: int | None = None) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-last_lines:]) if last_lines else text

    def proc_status(self) -> dict[str, str]:
        """/proc/PID/status as a dict (VmRSS, VmHWM, ...)."""
        status = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            status[key] = value.strip()
        return status

    def memory_kib(self, field: str) -> int:
        value = self.proc_status()[field]
        number, unit = value.split()
        assert unit == "kB", value
        return int(number)

    def healthy(self) -> bool:
        try:
            return requests.get(self.base_url + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def remove_log(self) -> None:
        self.log_path.unlink(missing_ok=True)

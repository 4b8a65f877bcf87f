"""Fixtures for the live-service tests: a binary, fresh databases, running servers.

Environment:
  OBSERVATORY_BIN                the binary (default .build/debug/observatory in the repo)
  OBSERVABILITY_TEST_ADMIN_URL   a superuser URL of the PostgreSQL cluster to create test
                                 databases in (default postgres://postgres@127.0.0.1:54329/postgres)

Each test module gets its own database `obs_py_<random>`, migrated by the binary and
dropped afterwards with every server the module started.
"""

from __future__ import annotations

import pytest
import psycopg
import requests

from harness import STARTED_SERVERS, Database, Server, admin_url, observatory_binary


@pytest.fixture(scope="session")
def observatory_bin():
    path = observatory_binary()
    if not path.is_file():
        pytest.fail(f"observatory binary not found at {path}: build it or set OBSERVATORY_BIN", pytrace=False)
    return path


@pytest.fixture(scope="session")
def admin_database_url(observatory_bin):
    url = admin_url()
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        pytest.fail(f"cannot reach PostgreSQL at {url} (scripts/postgres.sh start?): {error}", pytrace=False)
    return url


@pytest.fixture(scope="module")
def make_database(admin_database_url):
    """A factory of fresh databases (migrated unless migrate=False), dropped after the module."""
    created: list[Database] = []

    def make(migrate: bool = True) -> Database:
        database = Database.create(admin_database_url, migrate=migrate)
        created.append(database)
        return database

    yield make
    for database in created:
        database.drop()


@pytest.fixture(scope="module")
def db(make_database) -> Database:
    """The module's migrated database."""
    return make_database()


@pytest.fixture(scope="module")
def start_server(observatory_bin):
    """A factory: start_server(database, **env) -> a running Server, stopped after the module."""
    servers: list[Server] = []

    def start(database: Database, **env: str) -> Server:
        server = Server(database.url, env)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        try:
            server.stop()
        finally:
            server.kill()
            server.remove_log()


@pytest.fixture(scope="module")
def server(db, start_server) -> Server:
    """A server with default settings on the module's database."""
    return start_server(db)


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of every started server's log to the report."""
    report = yield
    if report.failed:
        for server in STARTED_SERVERS:
            tail = server.log(last_lines=40)
            if tail:
                report.sections.append((f"observatory serve log (port {server.port}, pid {server.process.pid})", tail))
    return report


# Chromium for the browser tests (test_dashboard_browser.py, test_wide_traces.py).


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    from browser import launch

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def browse(chromium):
    """open(base_url, **context options) -> (page, watch): a fresh context at 1280 px."""
    contexts = []

    from browser import PageWatch

    def open_page(base_url: str, width: int = 1280, height: int = 900, **options):
        context = chromium.new_context(base_url=base_url, viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        return page, PageWatch(page)

    yield open_page
    for context in contexts:
        context.close()

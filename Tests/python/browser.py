"""Helpers for the real-browser tests of the admin dashboards (test_dashboard_browser.py).

`PageWatch` records what a page must never do: log a console error or warning, throw an
uncaught exception, or open a dialog (alert, confirm, prompt). `send_spans` and
`refresh_metrics` put hand-made traces into a database and make the metric pages see
them; `Tree` builds one trace from a few lines of spans with millisecond offsets.

Chromium is Debian's (/usr/bin/chromium, or CHROMIUM_PATH), driven by Playwright without
`playwright install`.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field

import requests

from harness import Database, Server, clean_environment, run_observatory

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ADMIN = "/admin/observability"
MS = 1_000_000


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


@dataclass
class PageWatch:
    """Everything a page reported that a clean page never reports."""

    page: object
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    #: Main-document URLs whose error status the test asked for (a 404 page): Chromium
    #: logs "Failed to load resource" for such a document, and for nothing else here.
    expected_failures: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.errors.append(f"{error}"))
        self.page.on("dialog", self._on_dialog)

    def _on_console(self, message) -> None:
        if message.type not in ("error", "warning"):
            return
        url = (message.location or {}).get("url", "")
        if url in self.expected_failures and message.text.startswith("Failed to load resource"):
            return
        self.console.append(f"{message.type}: {message.text} ({url})")

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def problems(self) -> list[str]:
        return self.console + [f"pageerror: {e}" for e in self.errors] + [f"dialog: {d}" for d in self.dialogs]

    def assert_clean(self) -> None:
        """Waits for the network to settle (a late favicon or script request logs its
        failure only then), then asserts nothing was reported."""
        self.page.wait_for_load_state("networkidle")
        assert self.problems() == [], "the page reported problems:\n" + "\n".join(self.problems())


# ---------- Data ----------


def run_demo(server: Server, traces: int, seed: int = 42, spread: int = 3600) -> None:
    result = run_observatory(
        "demo", "--url", server.base_url, "--traces", str(traces), "--seed", str(seed), "--spread", str(spread),
        env=clean_environment(), timeout=120)
    assert result.returncode == 0, f"observatory demo failed:\n{result.stdout}\n{result.stderr}"


def refresh_metrics(db: Database) -> None:
    """Assembles the MCP calls of every trace stored so far (no settle margin), then
    recomputes every metric window now. The service's own maintenance may be doing
    either at that moment (assembly 'ran' false, a window 'busy'): try that one again."""
    deadline = time.monotonic() + 20
    while not db.rows("SELECT ran FROM observability.assemble_calls(p_settle => interval '0', p_max_traces => NULL)")[0]["ran"]:
        assert time.monotonic() < deadline, "assemble_calls stayed busy"
        time.sleep(0.1)
    pending = None  # every window
    while True:
        rows = db.rows("SELECT * FROM observability.refresh_metrics(p_force => true, p_windows => %s)", pending)
        pending = [row["time_window"] for row in rows if row["outcome"] != "refreshed"]
        if not pending:
            return
        assert time.monotonic() < deadline, f"refresh_metrics did not refresh: {rows}"
        time.sleep(0.1)


def send_spans(server: Server, spans: list[dict], **auth) -> None:
    """POST /api/v1/spans; every span must be accepted."""
    answer = requests.post(server.spans_url, json={"spans": spans}, timeout=10, **auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == len(spans), answer.text


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


class Tree:
    """One hand-made trace: spans added with offsets in milliseconds from `start_ns`."""

    def __init__(self, start_ns: int, service: str = "handmade"):
        self.trace_id = new_trace_id()
        self.start_ns = start_ns
        self.service = service
        self.spans: list[dict] = []
        self.ids: dict[str, str] = {}

    def add(self, key: str, name: str, start_ms: float, end_ms: float, parent: str | None = None,
            missing_parent: bool = False, **extra) -> str:
        """Adds span `key`; `parent` is another key; `missing_parent` points it at a span
        that is not in the trace (an orphan, which the pages draw as a root)."""
        span_id = new_span_id()
        self.ids[key] = span_id
        span = {
            "trace_id": self.trace_id, "span_id": span_id, "name": name, "service_name": self.service,
            "start_time": self.start_ns + int(start_ms * MS), "end_time": self.start_ns + int(end_ms * MS),
        }
        if parent is not None:
            span["parent_span_id"] = self.ids[parent]
        elif missing_parent:
            span["parent_span_id"] = new_span_id()
        span.update(extra)
        self.spans.append(span)
        return span_id

    def key_of(self, span_id: str) -> str:
        return next(key for key, value in self.ids.items() if value == span_id)


def tool_span(trace_id: str, tool: str, start_ns: int, duration_ms: float = 20, error: bool = False) -> dict:
    """A lone tools/call span (a trace of its own), for metric rows at a chosen time."""
    span = {
        "trace_id": trace_id, "span_id": new_span_id(), "name": f"tools/call {tool}", "kind": "server",
        "service_name": "mcp-gateway", "start_time": start_ns, "duration_ms": duration_ms,
        "attributes": {"mcp.method.name": "tools/call", "gen_ai.tool.name": tool},
    }
    if error:
        span.update(status="error", status_message="tool failed")
    return span

"""The calls every MCP demo client makes, and the manifest it prints.

The servers all expose the same things: tools `add` (fast), `slow` (sleeps ~150 ms),
`explode` (raises), `refuse` (returns a result with isError=true without raising),
prompts `greet` and `summarize`, and the resource `res://docs/readme`. A client runs
`steps(counts)` through its library and prints `manifest(...)` as one JSON line on
stdout, so tests compare the stored calls with what really happened, not with numbers
repeated in the test.

Counts come from `--counts` (JSON object, key `method target`), default `DEFAULT_COUNTS`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field

SLOW_SECONDS = 0.15
README_URI = "res://docs/readme"
MISSING_URI = "res://docs/missing"
README_TEXT = "MCP demo server: add, slow, explode, refuse; prompts greet and summarize."
EXPLODE_MESSAGE = "explode always fails"
REFUSE_MESSAGE = "refused: this tool always answers with isError"

TOOLS = {"add": {"a": 2, "b": 3}, "slow": {}, "explode": {}, "refuse": {"reason": "demo"}}
PROMPTS = {"greet": {"name": "Ada"}, "summarize": {"text": "Observability for MCP servers and clients."}}
# A call to one of these fails by design (the scenario expects it).
FAILING = {("tools/call", "explode"), ("tools/call", "refuse"), ("resources/read", MISSING_URI)}

DEFAULT_COUNTS = {
    "tools/call add": 5,
    "tools/call slow": 2,
    "tools/call explode": 3,
    "tools/call refuse": 4,
    "prompts/get greet": 2,
    "prompts/get summarize": 1,
    f"resources/read {README_URI}": 2,
    f"resources/read {MISSING_URI}": 1,
}


@dataclass(frozen=True)
class Step:
    method: str
    target: str
    arguments: dict

    @property
    def expect_failure(self) -> bool:
        return (self.method, self.target) in FAILING


def steps(counts: dict[str, int]) -> list[Step]:
    """The calls in a fixed interleaved order: one of each kind per round while any remain."""
    remaining = dict(counts)
    order = []
    while any(remaining.values()):
        for key in counts:
            if remaining[key] > 0:
                remaining[key] -= 1
                method, target = key.split(" ", 1)
                arguments = TOOLS.get(target, {}) if method == "tools/call" else PROMPTS.get(target, {})
                if method == "tools/call" and target not in TOOLS or method == "prompts/get" and target not in PROMPTS:
                    raise SystemExit(f"unknown target in counts: {key}")
                order.append(Step(method, target, dict(arguments)))
    return order


@dataclass
class Tally:
    method: str
    target: str
    calls: int = 0
    expected_failures: int = 0
    observed_failures: int = 0
    durations_ms: list = field(default_factory=list)


def client_arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True, help="the server's streamable HTTP URL, e.g. http://127.0.0.1:8000/mcp")
    parser.add_argument("--otlp-endpoint", help="OTLP/HTTP traces URL (default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)")
    parser.add_argument("--service-name", required=True)
    parser.add_argument("--counts", type=json.loads, default=DEFAULT_COUNTS, help="JSON object {'method target': n}")
    return parser.parse_args()


def server_arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--otlp-endpoint", help="OTLP/HTTP traces URL (default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)")
    parser.add_argument("--service-name", required=True)
    return parser.parse_args()


async def run(counts: dict[str, int], call) -> dict:
    """Runs every step through `await call(step)`, which returns True when the call failed
    (an isError result, an MCP error or an exception). Returns the tallies by key."""
    tallies: dict[str, Tally] = {}
    for step in steps(counts):
        tally = tallies.setdefault(f"{step.method} {step.target}", Tally(step.method, step.target))
        started = time.perf_counter()
        failed = bool(await call(step))
        tally.durations_ms.append(round((time.perf_counter() - started) * 1000, 3))
        tally.calls += 1
        tally.expected_failures += step.expect_failure
        tally.observed_failures += failed
    return tallies


def manifest(library: str, client_service: str, tallies: dict, **extra) -> dict:
    return {
        "library": library,
        "client_service": client_service,
        "calls": [
            {"method": t.method, "target": t.target, "calls": t.calls, "expected_failures": t.expected_failures,
             "observed_failures": t.observed_failures, "client_wall_ms": t.durations_ms}
            for t in tallies.values()
        ],
        **extra,
    }


def emit(document: dict) -> None:
    """Prints the manifest as the last line of stdout; fails the process when a call's
    outcome was not the expected one (the scenario is then not what the test assumes)."""
    print(json.dumps(document), flush=True)
    wrong = [c for c in document["calls"] if c["expected_failures"] != c["observed_failures"]]
    if wrong:
        print(f"unexpected outcomes: {wrong}", file=sys.stderr)
        sys.exit(3)

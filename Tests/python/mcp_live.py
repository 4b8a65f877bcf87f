#!/usr/bin/env python3
"""Runs the real MCP demo apps of Tests/python/mcp_apps: one server process and one client
process per library, each in the library's own virtual environment (var/venvs/<library>,
made by scripts/mcp-venvs.sh), talking streamable HTTP and exporting OTLP/HTTP protobuf.

Used by test_mcp_libraries.py (exporting to the Observatory) and from the command line to
capture a library's real spans into a JSON-lines file with mcp_capture.py:

    python3 Tests/python/mcp_live.py capture fastmcp --out Tests/fixtures/mcp/fastmcp.jsonl

Only the standard library here: the test process and the venvs share no packages.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
APPS = Path(__file__).resolve().parent / "mcp_apps"
CAPTURE = Path(__file__).resolve().parent / "mcp_capture.py"
VENVS_SCRIPT = "scripts/mcp-venvs.sh"


@dataclass(frozen=True)
class Library:
    """One MCP instrumentation under test: its venv, its apps and its service names."""

    key: str
    description: str

    @property
    def server_service(self) -> str:
        return f"{self.key.replace('_', '-')}-demo-server"

    @property
    def client_service(self) -> str:
        return f"{self.key.replace('_', '-')}-demo-client"

    @property
    def requirements(self) -> Path:
        return APPS / f"requirements-{self.key}.txt"

    @property
    def venv(self) -> Path:
        return Path(os.environ.get("MCP_VENVS_DIR", REPO_ROOT / "var" / "venvs")) / self.key

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


LIBRARIES = {
    library.key: library
    for library in [
        Library("fastmcp", "fastmcp 4.2 native OpenTelemetry (mcp 2.x)"),
        Library("mcp_sdk", "official mcp 2.3 SDK native spans (MCPServer, mcp.Client)"),
        Library("openllmetry", "opentelemetry-instrumentation-mcp 0.62 (OpenLLMetry, mcp 1.30)"),
        Library("openinference", "openinference-instrumentation-mcp 2.0 + OpenInference TOOL spans (mcp 1.30)"),
        Library("logfire", "logfire 5.4 instrument_mcp() (mcp 1.30)"),
    ]
}


class EnvironmentMissing(RuntimeError):
    """The library's virtual environment is absent or older than its requirements file."""


def requirements_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_venv(library: Library) -> Path:
    """The venv's python; raises EnvironmentMissing naming scripts/mcp-venvs.sh when the venv
    is missing or was made from another version of the requirements file."""
    stamp = library.venv / ".requirements.sha256"
    if not library.python.is_file() or not stamp.is_file():
        raise EnvironmentMissing(f"no virtual environment for {library.key} at {library.venv}: run {VENVS_SCRIPT}")
    if stamp.read_text().strip() != requirements_digest(library.requirements):
        raise EnvironmentMissing(
            f"{library.venv} was made from an older {library.requirements.name}: run {VENVS_SCRIPT}")
    return library.python


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[1]} exited with {process.returncode}:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{process.args[1]} did not listen on port {port} within {timeout} s:\n{tail(log)}")


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def app_environment(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LOGFIRE_", "TRACELOOP_", "PYTHON"))}
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = endpoint
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Process:
    """A child process with its output in a log file, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, arguments: list[str], env: dict[str, str], name: str):
        handle, log = tempfile.mkstemp(prefix=f"mcp-{name}-", suffix=".log")
        self.log = Path(log)
        self.name = name
        with os.fdopen(handle, "wb") as out:
            self.process = subprocess.Popen(arguments, env=env, cwd=APPS, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise RuntimeError(f"{self.name} ignored SIGTERM for {timeout} s:\n{tail(self.log)}")
        return self.process.returncode

    def output(self) -> str:
        return tail(self.log, 10_000)


@dataclass
class ScenarioRun:
    library: Library
    manifest: dict
    server_log: str
    client_log: str


def run_scenario(library: Library, endpoint: str, counts: dict | None = None, timeout: float = 90) -> ScenarioRun:
    """Starts the library's server, waits for its port, runs the client to completion, then
    stops the server with SIGTERM (it flushes its spans on the way out). Returns the
    client's manifest and both logs. Raises when either process fails."""
    python = str(check_venv(library))
    env = app_environment(endpoint)
    port = free_port()
    server = Process([python, f"{library.key}_server.py", "--port", str(port), "--service-name",
                      library.server_service], env, f"{library.key}-server")
    try:
        wait_for_port(port, server.process, server.log)
        arguments = [python, f"{library.key}_client.py", "--url", f"http://127.0.0.1:{port}/mcp",
                     "--service-name", library.client_service]
        if counts is not None:
            arguments += ["--counts", json.dumps(counts)]
        client = subprocess.run(arguments, env=env, cwd=APPS, capture_output=True, text=True, timeout=timeout)
    finally:
        status = server.stop()
    server_log = server.output()
    server.log.unlink(missing_ok=True)
    client_log = client.stdout + client.stderr
    if client.returncode != 0:
        raise RuntimeError(f"{library.key} client exited with {client.returncode}:\n{client_log}\n"
                           f"server log:\n{server_log}")
    if status not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
        raise RuntimeError(f"{library.key} server exited with {status} after SIGTERM:\n{server_log}")
    manifest = json.loads(client.stdout.strip().splitlines()[-1])
    return ScenarioRun(library, manifest, server_log, client_log)


def capture(library: Library, out: Path, counts: dict | None = None) -> ScenarioRun:
    """Runs the scenario against mcp_capture.py (in the library's venv) writing `out`."""
    python = str(check_venv(library))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("")
    port = free_port()
    receiver = Process([python, str(CAPTURE), "--port", str(port), "--out", str(out.resolve())], dict(os.environ),
                       "capture")
    try:
        wait_for_port(port, receiver.process, receiver.log)
        run = run_scenario(library, f"http://127.0.0.1:{port}/v1/traces", counts)
    finally:
        receiver.stop()
        receiver.log.unlink(missing_ok=True)
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    capture_command = commands.add_parser("capture", help="run one library's scenario into a JSON-lines file")
    capture_command.add_argument("library", choices=sorted(LIBRARIES))
    capture_command.add_argument("--out", type=Path, required=True)
    capture_command.add_argument("--counts", type=json.loads, default=None)
    args = parser.parse_args()
    try:
        run = capture(LIBRARIES[args.library], args.out, args.counts)
    except EnvironmentMissing as error:
        print(error, file=sys.stderr)
        return 2
    print(json.dumps(run.manifest, indent=1))
    print(f"{sum(1 for _ in args.out.open())} spans in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

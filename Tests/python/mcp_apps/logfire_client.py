"""MCP SDK 1.30 demo client instrumented by Pydantic Logfire (`logfire.instrument_mcp()`):
runs the scenario and prints its manifest."""

from __future__ import annotations

import asyncio

import logfire_setup
import scenario

args = scenario.client_arguments(__doc__)
logfire_setup.configure(args.service_name, args.otlp_endpoint)

import mcp1_apps  # noqa: E402

if __name__ == "__main__":
    scenario.emit(asyncio.run(mcp1_apps.run_client(args, "logfire")))

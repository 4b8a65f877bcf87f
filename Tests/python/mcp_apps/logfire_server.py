"""MCP SDK 1.30 demo server instrumented by Pydantic Logfire (`logfire.instrument_mcp()`)."""

from __future__ import annotations

import logfire_setup
import scenario

args = scenario.server_arguments(__doc__)
logfire_setup.configure(args.service_name, args.otlp_endpoint)

import mcp1_apps  # noqa: E402

if __name__ == "__main__":
    mcp1_apps.serve(args)

"""MCP SDK 1.30 demo client instrumented by OpenLLMetry (opentelemetry-instrumentation-mcp):
runs the scenario and prints its manifest."""

from __future__ import annotations

import asyncio

import otel_setup
import scenario

args = scenario.client_arguments(__doc__)
provider = otel_setup.build_provider(args.service_name, "openllmetry", args.otlp_endpoint)

from opentelemetry.instrumentation.mcp import McpInstrumentor  # noqa: E402

McpInstrumentor().instrument(tracer_provider=provider)

import mcp1_apps  # noqa: E402

if __name__ == "__main__":
    scenario.emit(asyncio.run(mcp1_apps.run_client(args, "openllmetry")))

"""MCP SDK 1.30 demo server instrumented by OpenLLMetry (opentelemetry-instrumentation-mcp)."""

from __future__ import annotations

import otel_setup
import scenario

args = scenario.server_arguments(__doc__)
provider = otel_setup.build_provider(args.service_name, "openllmetry", args.otlp_endpoint)

from opentelemetry.instrumentation.mcp import McpInstrumentor  # noqa: E402

McpInstrumentor().instrument(tracer_provider=provider)

import mcp1_apps  # noqa: E402

if __name__ == "__main__":
    mcp1_apps.serve(args)

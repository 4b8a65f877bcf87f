"""MCP SDK 1.30 demo server with openinference-instrumentation-mcp (which only carries the
trace context across MCP) and the application's own OpenInference spans: TOOL spans from
OITracer's `tool` decorator, CHAIN spans (OpenInference has no prompt or resource kind)
from its `chain` decorator."""

from __future__ import annotations

import otel_setup
import scenario

args = scenario.server_arguments(__doc__)
provider = otel_setup.build_provider(args.service_name, "openinference", args.otlp_endpoint)

from openinference.instrumentation import OITracer, TraceConfig  # noqa: E402
from openinference.instrumentation.mcp import MCPInstrumentor  # noqa: E402

MCPInstrumentor().instrument(tracer_provider=provider)
tracer = OITracer(provider.get_tracer("mcp-demo-app"), config=TraceConfig())

import mcp1_apps  # noqa: E402

if __name__ == "__main__":
    mcp1_apps.serve(args, wrap_tool=tracer.tool, wrap_other=tracer.chain)

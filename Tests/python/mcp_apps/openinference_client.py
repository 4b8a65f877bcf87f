"""MCP SDK 1.30 demo client with openinference-instrumentation-mcp (context propagation
only) and the application's own OpenInference spans around each call: kind TOOL for tool
calls, CHAIN for prompts and resources. Runs the scenario and prints its manifest."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import otel_setup
import scenario

args = scenario.client_arguments(__doc__)
provider = otel_setup.build_provider(args.service_name, "openinference", args.otlp_endpoint)

from openinference.instrumentation import OITracer, TraceConfig  # noqa: E402
from openinference.instrumentation.mcp import MCPInstrumentor  # noqa: E402
from opentelemetry.trace import Status, StatusCode  # noqa: E402

MCPInstrumentor().instrument(tracer_provider=provider)
tracer = OITracer(provider.get_tracer("mcp-demo-app"), config=TraceConfig())

import mcp1_apps  # noqa: E402


class Outcome:
    """Lets mcp1_apps.run_client report each call's result on the application's span."""

    def __init__(self, span):
        self.span = span

    def record_outcome(self, result, failed: bool) -> None:
        if isinstance(result, BaseException):
            self.span.record_exception(result)
        else:
            self.span.set_output(result.model_dump_json() if hasattr(result, "model_dump_json") else str(result))
        self.span.set_status(Status(StatusCode.ERROR, "call failed") if failed else Status(StatusCode.OK))


@asynccontextmanager
async def around(step: scenario.Step):
    if step.method == "tools/call":
        with tracer.start_as_current_span(step.target, openinference_span_kind="tool") as span:
            span.set_tool(name=step.target, parameters=step.arguments)
            span.set_input(step.arguments)
            yield Outcome(span)
    else:
        # Named as an application would name its own step, not after the MCP method: what an
        # OpenInference user's CHAIN span tells about MCP is only what the app chose to say.
        name = "get_prompt" if step.method == "prompts/get" else "read_resource"
        with tracer.start_as_current_span(name, openinference_span_kind="chain") as span:
            span.set_input({"method": step.method, "target": step.target, "arguments": step.arguments})
            yield Outcome(span)


if __name__ == "__main__":
    scenario.emit(asyncio.run(mcp1_apps.run_client(args, "openinference", around)))

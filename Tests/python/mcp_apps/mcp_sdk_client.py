"""Official MCP Python SDK 2.x demo client (mcp.Client over streamable HTTP) with the SDK's
native OpenTelemetry spans: runs the scenario and prints its manifest."""

from __future__ import annotations

import asyncio

import otel_setup
import scenario

args = scenario.client_arguments(__doc__)
otel_setup.build_provider(args.service_name, "mcp_sdk", args.otlp_endpoint)

from mcp import Client  # noqa: E402
from mcp.types import Implementation  # noqa: E402


async def main() -> dict:
    async with Client(args.url, client_info=Implementation(name=args.service_name, version="1.0")) as client:

        async def call(step: scenario.Step) -> bool:
            try:
                if step.method == "tools/call":
                    result = await client.call_tool(step.target, step.arguments)
                    return bool(result.is_error)
                if step.method == "prompts/get":
                    await client.get_prompt(step.target, step.arguments)
                    return False
                # bypass: every read reaches the server (the client may cache resources).
                await client.read_resource(step.target, cache_mode="bypass")
                return False
            except Exception:
                return True

        tallies = await scenario.run(args.counts, call)
        return scenario.manifest("mcp_sdk", args.service_name, tallies)


if __name__ == "__main__":
    scenario.emit(asyncio.run(main()))

"""Official MCP Python SDK 2.x demo server (MCPServer, no fastmcp package) with the SDK's
native OpenTelemetry spans, over streamable HTTP."""

from __future__ import annotations

import asyncio

import otel_setup
import scenario

args = scenario.server_arguments(__doc__)
otel_setup.build_provider(args.service_name, "mcp_sdk", args.otlp_endpoint)

from mcp.server.mcpserver import MCPServer  # noqa: E402
from mcp.types import CallToolResult, TextContent  # noqa: E402

mcp = MCPServer(args.service_name)


@mcp.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@mcp.tool()
async def slow() -> str:
    """Sleeps about 150 ms."""
    await asyncio.sleep(scenario.SLOW_SECONDS)
    return "done"


@mcp.tool()
def explode() -> str:
    """Always raises."""
    raise RuntimeError(scenario.EXPLODE_MESSAGE)


@mcp.tool()
def refuse(reason: str = "") -> CallToolResult:
    """Returns an isError result without raising."""
    return CallToolResult(content=[TextContent(type="text", text=scenario.REFUSE_MESSAGE)], is_error=True)


@mcp.prompt()
def greet(name: str) -> str:
    """A greeting."""
    return f"Say hello to {name}."


@mcp.prompt()
def summarize(text: str) -> str:
    """A summary request."""
    return f"Summarize in one sentence: {text}"


@mcp.resource(scenario.README_URI)
def readme() -> str:
    """The readme."""
    return scenario.README_TEXT


if __name__ == "__main__":
    mcp.run("streamable-http", host=args.host, port=args.port)

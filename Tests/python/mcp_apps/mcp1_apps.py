"""The demo server and client on the MCP Python SDK 1.x (1.30), shared by the libraries that
instrument it from outside (OpenLLMetry, OpenInference, Logfire). Each library's
`<library>_server.py` / `<library>_client.py` sets up its tracing first, then calls
`serve(...)` or `run_client(...)` here.

The server is the SDK's own FastMCP (`mcp.server.fastmcp`, part of the `mcp` package, not
the separate `fastmcp` distribution); the client is `ClientSession` over
`streamable_http_client`.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Callable

import scenario
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult, Implementation, TextContent


def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


async def slow() -> str:
    """Sleeps about 150 ms."""
    await asyncio.sleep(scenario.SLOW_SECONDS)
    return "done"


def explode() -> str:
    """Always raises."""
    raise RuntimeError(scenario.EXPLODE_MESSAGE)


def refuse(reason: str = "") -> CallToolResult:
    """Returns an isError result without raising."""
    return CallToolResult(content=[TextContent(type="text", text=scenario.REFUSE_MESSAGE)], isError=True)


def greet(name: str) -> str:
    """A greeting."""
    return f"Say hello to {name}."


def summarize(text: str) -> str:
    """A summary request."""
    return f"Summarize in one sentence: {text}"


def readme() -> str:
    """The readme."""
    return scenario.README_TEXT


def serve(args, wrap_tool: Callable = lambda f: f, wrap_other: Callable = lambda f: f) -> None:
    """Runs the demo server until SIGINT/SIGTERM. `wrap_tool` / `wrap_other` decorate the
    tool / prompt and resource functions before registration (an application's own tracing)."""
    mcp = FastMCP(args.service_name, host=args.host, port=args.port, log_level="WARNING")
    for function in (add, slow, explode, refuse):
        mcp.tool(name=function.__name__, description=function.__doc__)(wrap_tool(function))
    for function in (greet, summarize):
        mcp.prompt(name=function.__name__, description=function.__doc__)(wrap_other(function))
    mcp.resource(scenario.README_URI, name="readme", description=readme.__doc__)(wrap_other(readme))
    mcp.run(transport="streamable-http")


async def run_client(args, library: str,
                     around: Callable[[scenario.Step], AbstractAsyncContextManager] = lambda step: nullcontext()) -> dict:
    """Runs the scenario; `around(step)` wraps each call (an application's own span)."""
    async with streamable_http_client(args.url) as (read, write, _session_id):
        async with ClientSession(read, write, client_info=Implementation(name=args.service_name, version="1.0")) as session:
            await session.initialize()

            async def call(step: scenario.Step) -> bool:
                async with around(step) as span:
                    try:
                        if step.method == "tools/call":
                            result = await session.call_tool(step.target, step.arguments)
                            failed = bool(result.isError)
                        elif step.method == "prompts/get":
                            result = await session.get_prompt(step.target, step.arguments)
                            failed = False
                        else:
                            result = await session.read_resource(step.target)
                            failed = False
                        # OpenLLMetry 0.62 wraps ClientSession.send_request in its `dont_throw`:
                        # a JSON-RPC error response comes back as None instead of McpError.
                        failed = failed or result is None
                    except Exception as error:
                        result, failed = error, True
                    if span is not None and hasattr(span, "record_outcome"):
                        span.record_outcome(result, failed)
                    return failed

            tallies = await scenario.run(args.counts, call)
    return scenario.manifest(library, args.service_name, tallies)

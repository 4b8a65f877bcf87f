"""OpenTelemetry SDK set-up shared by the MCP demo servers and clients.

Every process builds one TracerProvider whose `service.name` names the process
(`<library>-demo-server` or `<library>-demo-client`) and whose batch processor posts
OTLP/HTTP protobuf to the endpoint given on the command line or in
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a full URL, `http://127.0.0.1:PORT/v1/traces`).
The provider is flushed and shut down at exit, including on SIGTERM and SIGINT.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


def traces_endpoint(explicit: str | None = None) -> str:
    """The OTLP/HTTP traces URL: the argument, else the environment variable."""
    endpoint = explicit or os.environ.get(ENDPOINT_VARIABLE)
    if not endpoint:
        sys.exit(f"no OTLP endpoint: pass --otlp-endpoint or set {ENDPOINT_VARIABLE}")
    return endpoint


def resource(service_name: str, library: str) -> Resource:
    return Resource.create({"service.name": service_name, "service.namespace": "mcp-demo", "mcp.demo.library": library})


def span_processor(endpoint: str) -> SpanProcessor:
    """A batch processor exporting OTLP/HTTP protobuf; short delay so a run's spans leave quickly."""
    return BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=10), schedule_delay_millis=200)


def build_provider(service_name: str, library: str, endpoint: str | None = None, install: bool = True) -> TracerProvider:
    """A TracerProvider exporting to `endpoint`, installed as the global one unless
    `install` is false, and shut down (flushed) when the process exits."""
    provider = TracerProvider(resource=resource(service_name, library))
    provider.add_span_processor(span_processor(traces_endpoint(endpoint)))
    if install:
        trace.set_tracer_provider(provider)
    flush_at_exit(provider.shutdown)
    return provider


def flush_at_exit(shutdown) -> None:
    """Runs `shutdown` once at interpreter exit; SIGTERM becomes a normal exit so it runs."""
    done = []

    def once() -> None:
        if not done:
            done.append(True)
            shutdown()

    atexit.register(once)
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

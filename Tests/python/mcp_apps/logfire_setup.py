"""Logfire configured to export to our OTLP endpoint only (no Logfire token, nothing sent
to Logfire's service): `logfire.configure` adds an OTLP/HTTP span exporter by itself when
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, so only that variable is set, not a processor
of our own (which would export every span twice)."""

from __future__ import annotations

import os

import otel_setup


def configure(service_name: str, endpoint: str | None) -> None:
    os.environ[otel_setup.ENDPOINT_VARIABLE] = otel_setup.traces_endpoint(endpoint)
    import logfire

    logfire.configure(
        send_to_logfire=False,
        service_name=service_name,
        console=False,
        metrics=False,
        inspect_arguments=False,
    )
    logfire.instrument_mcp()
    otel_setup.flush_at_exit(logfire.shutdown)

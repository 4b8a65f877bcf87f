"""Request bodies for the ingestion endpoints, built by hand where the SDK cannot make
them: spans of one trace split over requests, fixed timestamps, broken ids.

Protobuf bodies use the `opentelemetry.proto` message classes; `SpanSpec` describes one
span in plain Python so a test reads as a list of spans, not of nested messages.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import requests
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

KIND = {
    "internal": trace_pb2.Span.SPAN_KIND_INTERNAL,
    "server": trace_pb2.Span.SPAN_KIND_SERVER,
    "client": trace_pb2.Span.SPAN_KIND_CLIENT,
    "producer": trace_pb2.Span.SPAN_KIND_PRODUCER,
    "consumer": trace_pb2.Span.SPAN_KIND_CONSUMER,
}
STATUS = {
    "unset": trace_pb2.Status.STATUS_CODE_UNSET,
    "ok": trace_pb2.Status.STATUS_CODE_OK,
    "error": trace_pb2.Status.STATUS_CODE_ERROR,
}

_ids = random.SystemRandom()


def trace_id() -> bytes:
    return _ids.getrandbits(128).to_bytes(16, "big")


def span_id() -> bytes:
    return _ids.getrandbits(64).to_bytes(8, "big")


def now_ns() -> int:
    return time.time_ns()


def signed_span_id(raw: bytes) -> int:
    """The bigint the service stores for an 8-byte span id: the same bytes, signed."""
    return int.from_bytes(raw, "big", signed=True)


def trace_uuid(raw: bytes) -> str:
    """The uuid text PostgreSQL shows for a 16-byte trace id."""
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class SpanSpec:
    trace_id: bytes
    span_id: bytes
    name: str
    start_ns: int
    end_ns: int
    parent_span_id: bytes = b""
    kind: str = "internal"
    status: str = "unset"
    status_message: str = ""
    attributes: dict = field(default_factory=dict)
    events: list = field(default_factory=list)  # (name, time_ns, attributes)


def any_value(value) -> common_pb2.AnyValue:
    if isinstance(value, bool):
        return common_pb2.AnyValue(bool_value=value)
    if isinstance(value, int):
        return common_pb2.AnyValue(int_value=value)
    if isinstance(value, float):
        return common_pb2.AnyValue(double_value=value)
    if isinstance(value, bytes):
        return common_pb2.AnyValue(bytes_value=value)
    if isinstance(value, (list, tuple)):
        return common_pb2.AnyValue(array_value=common_pb2.ArrayValue(values=[any_value(v) for v in value]))
    if isinstance(value, dict):
        return common_pb2.AnyValue(kvlist_value=common_pb2.KeyValueList(values=key_values(value)))
    return common_pb2.AnyValue(string_value=str(value))


def key_values(attributes: dict) -> list[common_pb2.KeyValue]:
    return [common_pb2.KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


def proto_span(spec: SpanSpec) -> trace_pb2.Span:
    return trace_pb2.Span(
        trace_id=spec.trace_id,
        span_id=spec.span_id,
        parent_span_id=spec.parent_span_id,
        name=spec.name,
        kind=KIND[spec.kind],
        start_time_unix_nano=spec.start_ns,
        end_time_unix_nano=spec.end_ns,
        attributes=key_values(spec.attributes),
        events=[
            trace_pb2.Span.Event(name=name, time_unix_nano=t, attributes=key_values(attrs))
            for name, t, attrs in spec.events
        ],
        status=trace_pb2.Status(code=STATUS[spec.status], message=spec.status_message),
    )


def export_request(
    spans_by_service: dict[str, list[SpanSpec]], scope: str = "python-tests"
) -> trace_service_pb2.ExportTraceServiceRequest:
    """One ResourceSpans per service, in the order given."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    for service, specs in spans_by_service.items():
        resource_spans = request.resource_spans.add()
        resource_spans.resource.CopyFrom(
            resource_pb2.Resource(attributes=key_values({"service.name": service, "deployment.environment": "test"}))
        )
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = scope
        scope_spans.spans.extend(proto_span(s) for s in specs)
    return request


def export_bytes(spans_by_service: dict[str, list[SpanSpec]]) -> bytes:
    return export_request(spans_by_service).SerializeToString()


def simple_trace(
    service: str = "svc", spans: int = 1, name: str = "work", start_ns: int | None = None
) -> list[SpanSpec]:
    """A root span and `spans - 1` children, 1 ms apart, with a fresh trace id."""
    start = start_ns or now_ns()
    tid = trace_id()
    root = SpanSpec(tid, span_id(), name, start, start + 10_000_000, kind="server")
    children = [
        SpanSpec(tid, span_id(), f"{name}.child{i}", start + i * 1_000_000, start + (i + 1) * 1_000_000,
                 parent_span_id=root.span_id)
        for i in range(1, spans)
    ]
    return [root, *children]


def post_protobuf(client, url: str, body: bytes, headers: dict | None = None, timeout: float = 30) -> requests.Response:
    """POSTs an OTLP protobuf body with `client` (the requests module or a Session)."""
    return client.post(url, data=body, headers={"Content-Type": PROTOBUF, **(headers or {})}, timeout=timeout)


def decode_export_response(response: requests.Response) -> trace_service_pb2.ExportTraceServiceResponse:
    assert response.headers.get("Content-Type", "").startswith(PROTOBUF), response.headers
    return trace_service_pb2.ExportTraceServiceResponse.FromString(response.content)


def decode_status(response: requests.Response) -> status_pb2.Status:
    """The google.rpc.Status body of an OTLP/HTTP error answered in protobuf."""
    assert response.headers.get("Content-Type", "").startswith(PROTOBUF), response.headers
    return status_pb2.Status.FromString(response.content)


# MARK: OTLP JSON (hex ids, as the OTLP/HTTP JSON mapping requires)

def json_span(spec: SpanSpec) -> dict:
    def attrs(values: dict) -> list:
        out = []
        for k, v in values.items():
            if isinstance(v, bool):
                value = {"boolValue": v}
            elif isinstance(v, int):
                value = {"intValue": str(v)}
            elif isinstance(v, float):
                value = {"doubleValue": v}
            else:
                value = {"stringValue": str(v)}
            out.append({"key": k, "value": value})
        return out

    return {
        "traceId": spec.trace_id.hex(),
        "spanId": spec.span_id.hex(),
        "parentSpanId": spec.parent_span_id.hex(),
        "name": spec.name,
        "kind": KIND[spec.kind],
        "startTimeUnixNano": str(spec.start_ns),
        "endTimeUnixNano": str(spec.end_ns),
        "attributes": attrs(spec.attributes),
        "events": [{"name": n, "timeUnixNano": str(t), "attributes": attrs(a)} for n, t, a in spec.events],
        "status": {"code": STATUS[spec.status], "message": spec.status_message},
    }


def json_export(spans_by_service: dict[str, list[SpanSpec]]) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"scope": {"name": "python-tests"}, "spans": [json_span(s) for s in specs]}],
            }
            for service, specs in spans_by_service.items()
        ]
    }

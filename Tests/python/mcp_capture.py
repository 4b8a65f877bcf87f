#!/usr/bin/env python3
"""A tiny OTLP/HTTP protobuf trace receiver that writes every span it gets as one JSON line.

    python mcp_capture.py --port 4318 --out spans.jsonl

Accepts POST /v1/traces (application/x-protobuf, optionally gzip), answers with an empty
ExportTraceServiceResponse, and appends one object per span: trace_id, span_id,
parent_span_id (hex, "" for a root), name, kind, scope, scope_version, service_name,
resource (attributes), attributes, status {code, message}, events, links, start/end
(nanoseconds since the epoch). Lets the span shapes of a real MCP library be inspected
without the Observatory. Needs only opentelemetry-proto (and its protobuf dependency).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS = {0: "unset", 1: "ok", 2: "error"}


def any_value(value):
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which)


def attributes(pairs) -> dict:
    return {kv.key: any_value(kv.value) for kv in pairs}


def span_records(request: ExportTraceServiceRequest):
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": KINDS.get(span.kind, str(span.kind)),
                    "scope": scope_spans.scope.name,
                    "scope_version": scope_spans.scope.version,
                    "service_name": resource.get("service.name"),
                    "resource": resource,
                    "attributes": attributes(span.attributes),
                    "status": {"code": STATUS.get(span.status.code, str(span.status.code)), "message": span.status.message},
                    "events": [
                        {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": attributes(e.attributes)}
                        for e in span.events
                    ],
                    "links": [
                        {"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex(), "attributes": attributes(link.attributes)}
                        for link in span.links
                    ],
                    "start_time_unix_nano": span.start_time_unix_nano,
                    "end_time_unix_nano": span.end_time_unix_nano,
                }


class Receiver(BaseHTTPRequestHandler):
    lock = threading.Lock()
    out = None

    def do_POST(self):  # noqa: N802 (http.server's naming)
        if self.path.rstrip("/") != "/v1/traces":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as error:  # a malformed body: tell the exporter, keep running
            self.send_error(400, str(error))
            return
        with self.lock:
            for record in span_records(request):
                self.out.write(json.dumps(record, sort_keys=True) + "\n")
            self.out.flush()
        payload = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):  # noqa: N802
        # Readiness probe.
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4318)
    parser.add_argument("--out", required=True, help="JSON-lines file (appended to; '-' for stdout)")
    args = parser.parse_args()
    Receiver.out = sys.stdout if args.out == "-" else open(args.out, "a", encoding="utf-8")
    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    print(f"mcp_capture: listening on http://{args.host}:{server.server_address[1]}/v1/traces", file=sys.stderr, flush=True)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        Receiver.out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

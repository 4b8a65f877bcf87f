"""OTLP/gRPC (`TraceService/Export` on OBSERVABILITY_GRPC_PORT) against OTLP/HTTP.

The same spans, recorded once by the real OpenTelemetry Python SDK, go through its HTTP and
its gRPC exporter (gzip on and off) into two servers on two databases; the stored rows and
the read API's answers must be the same span by span. Raw calls through `grpcio` check the
statuses (INVALID_ARGUMENT, UNAUTHENTICATED, RESOURCE_EXHAUSTED, partial success), and a
hand-driven HTTP/2 connection (`h2`) sends what no gRPC client would: lying length prefixes
and a gzip bomb. After each, the service must still answer.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections import Counter

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GRPCSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression as ProtoCompression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as ProtoSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from harness import Database
from payloads import SpanSpec, export_bytes, export_request, now_ns, simple_trace, span_id, trace_id, trace_uuid
# The same fixtures and helpers as the HTTP tests: a server with a 64 KiB limit, one with a token.
from test_bad_input import SMALL_LIMIT, TOKEN, gzip_of_zeros, padded_export, small_server, token_server  # noqa: F401
from test_durability import private_cluster  # noqa: F401 (a fixture)
from selfspans import SELF_SERVICE, wait_for
from test_otel_sdk import RecordingExporter, emit_mcp_trace

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def export_call(server, body: bytes, metadata=(), compression=None, timeout: float = 30):
    """One raw Export call with `body` as the request message; (code, message, trailers, response)."""
    with grpc.insecure_channel(server.grpc_target) as channel:
        call = channel.unary_unary(EXPORT)  # no serializers: bytes in, bytes out
        try:
            response, state = call.with_call(body, metadata=metadata, compression=compression, timeout=timeout)
            return grpc.StatusCode.OK, "", dict(state.trailing_metadata() or ()), \
                trace_service_pb2.ExportTraceServiceResponse.FromString(response)
        except grpc.RpcError as error:
            return error.code(), error.details(), dict(error.trailing_metadata() or ()), None


def count_spans(db, tid: bytes) -> int:
    return db.scalar("SELECT count(*) FROM observability.spans WHERE trace_id = %s::uuid", trace_uuid(tid))


def assert_still_serving(server, db, metadata=()):
    """The process lives and a good export over gRPC is committed."""
    assert server.is_alive(), server.log(last_lines=30)
    spans = simple_trace("after-bad-grpc", spans=2)
    code, message, _, response = export_call(server, export_bytes({"after-bad-grpc": spans}), metadata=metadata)
    assert code == grpc.StatusCode.OK, (code, message)
    assert not response.HasField("partial_success")
    assert count_spans(db, spans[0].trace_id) == 2


# MARK: The real SDK, over both protocols


@pytest.fixture(scope="module")
def twin_servers(make_database, start_server):
    """Two servers on two databases: the same spans go to one over HTTP, to the other over gRPC."""
    http_db, grpc_db = make_database(), make_database()
    return (http_db, start_server(http_db)), (grpc_db, start_server(grpc_db))


def recorded_spans(service: str):
    """The MCP trace of test_otel_sdk, recorded once: finished SDK spans and their ids by role."""
    memory = InMemorySpanExporter()
    ids = emit_mcp_trace(RecordingExporter(memory), service)
    return memory.get_finished_spans(), ids


def stored_rows(db, tid: str) -> list[dict]:
    return db.rows("SELECT * FROM observability.span_list WHERE trace_id = %s ORDER BY span_id", tid)


@pytest.mark.parametrize("gzip_on", [False, True], ids=["plain", "gzip"])
def test_sdk_traces_read_back_the_same_over_grpc_and_http(twin_servers, gzip_on, http):
    (http_db, http_server), (grpc_db, grpc_server) = twin_servers
    spans, ids = recorded_spans(f"twin-{'gzip' if gzip_on else 'plain'}")
    over_http = ProtoSpanExporter(
        endpoint=http_server.traces_url, timeout=30, compression=ProtoCompression.Gzip if gzip_on else None)
    over_grpc = GRPCSpanExporter(
        endpoint=f"http://{grpc_server.grpc_target}", insecure=True, timeout=30,
        compression=grpc.Compression.Gzip if gzip_on else None)
    assert over_http.export(spans) == SpanExportResult.SUCCESS
    assert over_grpc.export(spans) == SpanExportResult.SUCCESS
    over_http.shutdown()
    over_grpc.shutdown()

    by_http, by_grpc = stored_rows(http_db, ids["trace"]), stored_rows(grpc_db, ids["trace"])
    assert len(by_grpc) == 7, by_grpc
    assert {r["span_id"] for r in by_grpc} == {ids[role] for role in ids if role != "trace"}
    for from_http, from_grpc in zip(by_http, by_grpc, strict=True):
        assert from_grpc == from_http, from_grpc["name"]
    # The traces row too, but for when it was written.
    trace = "SELECT * FROM observability.traces WHERE trace_id = %s::uuid"
    rows = [{k: v for k, v in d.one(trace, ids["trace"]).items() if k != "updated_at"} for d in (http_db, grpc_db)]
    assert rows[1] == rows[0]
    # The read API answers the same for both.
    answers = [http.get(f"{s.base_url}/api/v1/traces/{ids['trace']}", timeout=30) for s in (http_server, grpc_server)]
    assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
    assert answers[1].json() == answers[0].json()


def test_sdk_gzip_is_compressed_on_the_wire(server, db):
    """The exporter's gzip setting reaches the service as grpc-encoding gzip, not identity:
    a body the transport cannot inflate must fail, which it would not if ignored."""
    spans = simple_trace("grpc-gzip-raw", spans=3)
    body = export_bytes({"grpc-gzip-raw": spans})
    code, message, _, _ = export_call(server, body, compression=grpc.Compression.Gzip)
    assert code == grpc.StatusCode.OK, message
    code, message, _, _ = export_call(server, export_bytes({"d": simple_trace("d")}), compression=grpc.Compression.Deflate)
    assert code == grpc.StatusCode.OK, message
    assert count_spans(db, spans[0].trace_id) == 3


# MARK: Statuses


def test_partial_success_for_invalid_spans(server, db):
    good = simple_trace("grpc-partial", spans=2)
    request = export_request({"grpc-partial": good})
    bad = request.resource_spans[0].scope_spans[0].spans.add()
    bad.CopyFrom(request.resource_spans[0].scope_spans[0].spans[0])
    bad.trace_id = b"\x01\x02\x03"  # not 16 bytes
    code, message, _, response = export_call(server, request.SerializeToString())
    assert code == grpc.StatusCode.OK, message
    assert response.partial_success.rejected_spans == 1
    assert response.partial_success.error_message
    assert count_spans(db, good[0].trace_id) == 2


@pytest.mark.parametrize("body", [b"\xff" * 64, b"\x0a\x80", bytes(range(256)) * 4], ids=["ff", "cut", "bytes"])
def test_malformed_message_is_invalid_argument(server, db, body):
    code, message, _, _ = export_call(server, body)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, message)
    assert "ExportTraceServiceRequest" in message
    assert_still_serving(server, db)


def test_huge_declared_protobuf_length_is_invalid_argument(server, db):
    # resource_spans (field 1, length-delimited) claiming 2^62 bytes.
    body = b"\x0a" + bytes([0x80] * 8) + b"\x40" + b"x" * 16
    code, message, _, _ = export_call(server, body)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, message)
    assert_still_serving(server, db)


def test_deeply_nested_attribute_values(server, db):
    """An attribute of arrays in arrays, 20,000 deep: answered, never a crash."""
    tid = trace_id()
    t0 = now_ns()
    request = export_request({"deep": [SpanSpec(tid, span_id(), "deep", t0, t0 + 1000)]})
    value = b"\x0a\x01x"  # AnyValue{string_value: "x"}
    for _ in range(20_000):
        value = b"\x2a" + encode_varint(len(value) + 1 + len(encode_varint(len(value)))) + b"\x0a" + \
            encode_varint(len(value)) + value  # AnyValue{array_value: ArrayValue{values: [value]}}
    attribute = b"\x0a\x04deep" + b"\x12" + encode_varint(len(value)) + value  # KeyValue
    span = request.resource_spans[0].scope_spans[0].spans[0]
    raw = span.SerializeToString() + b"\x4a" + encode_varint(len(attribute)) + attribute  # Span.attributes = 9
    scope = b"\x12" + encode_varint(len(raw)) + raw  # ScopeSpans.spans = 2
    resource_spans = request.resource_spans[0].resource.SerializeToString()
    resource_spans = b"\x0a" + encode_varint(len(resource_spans)) + resource_spans + \
        b"\x12" + encode_varint(len(scope)) + scope
    body = b"\x0a" + encode_varint(len(resource_spans)) + resource_spans
    code, message, _, _ = export_call(server, body)
    assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), (code, message)
    if code == grpc.StatusCode.OK:
        stored = db.scalar("SELECT attributes->>'deep' FROM observability.spans WHERE trace_id = %s::uuid",
                           trace_uuid(tid))
        assert stored is not None and "nested too deep" in stored
    assert_still_serving(server, db)


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def test_missing_or_wrong_token(token_server, db):
    spans = simple_trace("grpc-token")
    body = export_bytes({"grpc-token": spans})
    for metadata in ((), (("authorization", "Bearer wrong"),), (("authorization", TOKEN),),
                     (("authorization", "Bearer " + TOKEN[:-1]),), (("authorization", "Basic " + TOKEN),)):
        code, message, _, _ = export_call(token_server, body, metadata=metadata)
        assert code == grpc.StatusCode.UNAUTHENTICATED, (metadata, code, message)
    assert count_spans(db, spans[0].trace_id) == 0
    good = (("authorization", "Bearer " + TOKEN),)
    code, message, _, _ = export_call(token_server, body, metadata=good)
    assert code == grpc.StatusCode.OK, message
    assert count_spans(db, spans[0].trace_id) == len(spans)
    # The SDK's exporter sends it from its headers setting.
    exporter = GRPCSpanExporter(endpoint=f"http://{token_server.grpc_target}", insecure=True, timeout=30,
                                headers={"authorization": "Bearer " + TOKEN})
    sdk_spans, ids = recorded_spans("grpc-token-sdk")
    assert exporter.export(sdk_spans) == SpanExportResult.SUCCESS
    exporter.shutdown()
    assert db.scalar("SELECT count(*) FROM observability.spans WHERE trace_id = %s::uuid", ids["trace"]) == 7
    assert_still_serving(token_server, db, metadata=good)


def test_message_at_and_over_the_limit(small_server, db):
    tid, at_limit = padded_export(SMALL_LIMIT)
    code, message, _, _ = export_call(small_server, at_limit)
    assert code == grpc.StatusCode.OK, message
    assert count_spans(db, tid) == 1
    # grpc-swift's transport refuses it while reading, before the handler: it resets the
    # stream (RST_STREAM CANCEL), which clients report as CANCELLED; RESOURCE_EXHAUSTED, what
    # its decoder means, would be fine too.
    refused = (grpc.StatusCode.CANCELLED, grpc.StatusCode.RESOURCE_EXHAUSTED)
    tid, over = padded_export(SMALL_LIMIT + 1)
    code, message, _, _ = export_call(small_server, over)
    assert code in refused, (code, message)
    assert count_spans(db, tid) == 0
    # Small when compressed, over the limit once inflated.
    tid, big = padded_export(4 * SMALL_LIMIT)
    code, message, _, _ = export_call(small_server, big, compression=grpc.Compression.Gzip)
    assert code in refused, (code, message)
    assert count_spans(db, tid) == 0
    assert_still_serving(small_server, db)


# MARK: What no gRPC client sends


class RawCall:
    """One Export call over a hand-driven HTTP/2 connection: the DATA bytes are sent as
    given (gRPC's 5-byte prefixes included, true or not), with flow control honoured."""

    def __init__(self, port: int, data: bytes, headers: list[tuple[str, str]] = ()):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.stream = self.conn.get_next_available_stream_id()
        self.conn.send_headers(self.stream, [
            (":method", "POST"), (":scheme", "http"), (":path", EXPORT), (":authority", f"127.0.0.1:{port}"),
            ("content-type", "application/grpc"), ("te", "trailers"), *headers])
        self.headers: dict[str, str] = {}
        self.reset = False
        self.ended = False
        self.closed = False
        self.run(data)
        self.sock.close()

    def run(self, data: bytes) -> None:
        sent = 0
        self.flush()
        while not (self.ended or self.reset or self.closed):
            while sent < len(data):
                window = min(self.conn.local_flow_control_window(self.stream), self.conn.max_outbound_frame_size)
                if window <= 0:
                    break
                chunk = data[sent:sent + window]
                self.conn.send_data(self.stream, chunk)
                sent += len(chunk)
            if sent == len(data) and not self.conn.streams[self.stream].closed and sent >= 0:
                if self.conn.streams[self.stream].state_machine.state.name in ("OPEN", "HALF_CLOSED_REMOTE"):
                    self.conn.end_stream(self.stream)
                sent = len(data) + 1  # end sent once
            self.flush()
            self.receive()

    def flush(self) -> None:
        outgoing = self.conn.data_to_send()
        if outgoing:
            try:
                self.sock.sendall(outgoing)
            except OSError:
                self.closed = True

    def receive(self) -> None:
        try:
            incoming = self.sock.recv(1 << 16)
        except OSError:
            incoming = b""
        if not incoming:
            self.closed = True
            return
        for event in self.conn.receive_data(incoming):
            if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                self.headers.update(dict(event.headers))
            elif isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self.ended = True
            elif isinstance(event, h2.events.StreamReset):
                self.reset = True
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.closed = True

    @property
    def grpc_status(self) -> int | None:
        return int(self.headers["grpc-status"]) if "grpc-status" in self.headers else None


def test_raw_call_helper_sends_a_good_export(server, db):
    spans = simple_trace("grpc-raw-good", spans=2)
    body = export_bytes({"grpc-raw-good": spans})
    call = RawCall(server.grpc_port, b"\x00" + struct.pack(">I", len(body)) + body)
    assert call.grpc_status == 0, call.headers
    compressed = gzip.compress(export_bytes({"grpc-raw-gzip": (gz := simple_trace("grpc-raw-gzip", spans=2))}))
    call = RawCall(server.grpc_port, b"\x01" + struct.pack(">I", len(compressed)) + compressed,
                   [("grpc-encoding", "gzip")])
    assert call.grpc_status == 0, call.headers
    assert count_spans(db, spans[0].trace_id) == 2 and count_spans(db, gz[0].trace_id) == 2


def test_gzip_bomb(server, db):
    """1 GiB of zeros in about 1 MiB of gzip: refused by the transport's decompression limit
    (the message size limit), without the process holding the inflated bytes."""
    bomb_size = 1 << 30
    bomb = gzip_of_zeros(bomb_size)
    assert len(bomb) < 2 << 20
    for _ in range(3):
        call = RawCall(server.grpc_port, b"\x01" + struct.pack(">I", len(bomb)) + bomb, [("grpc-encoding", "gzip")])
        # As an oversize message: the stream is reset (or RESOURCE_EXHAUSTED), never OK.
        assert call.grpc_status in (grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], None), call.headers
        assert call.grpc_status is not None or call.reset or call.closed
    peak_kib = server.memory_kib("VmHWM")
    assert peak_kib * 1024 < bomb_size // 8, f"peak RSS {peak_kib} KiB for a {bomb_size >> 20} MiB bomb"
    assert_still_serving(server, db)


@pytest.mark.parametrize("prefix", [
    b"\x00\xff\xff\xff\xff",  # 4 GiB declared, a few bytes sent
    b"\x01\x7f\xff\xff\xff",  # 2 GiB declared, compressed flag without grpc-encoding
    b"\x07\x00\x00\x00\x04",  # an unknown flag
], ids=["4GiB", "compressed-without-encoding", "bad-flag"])
def test_lying_length_prefixes(server, db, prefix):
    call = RawCall(server.grpc_port, prefix + b"abcd")
    assert call.grpc_status != 0, call.headers
    assert_still_serving(server, db)


def test_a_call_without_a_message_or_with_two_is_invalid_argument(server, db):
    none = RawCall(server.grpc_port, b"")
    assert (none.grpc_status, none.headers.get("grpc-message")) == (
        grpc.StatusCode.INVALID_ARGUMENT.value[0], "Export takes one request message; the stream had none")
    spans = simple_trace("grpc-two-messages", spans=2)
    body = export_bytes({"grpc-two-messages": spans})
    message = b"\x00" + struct.pack(">I", len(body)) + body
    two = RawCall(server.grpc_port, message + message)
    assert (two.grpc_status, two.headers.get("grpc-message")) == (
        grpc.StatusCode.INVALID_ARGUMENT.value[0], "Export takes one request message; the stream had more")
    assert count_spans(db, spans[0].trace_id) == 0
    assert_still_serving(server, db)


def test_garbage_instead_of_http2(server, db):
    for garbage in (b"\x00" * 64, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256)) * 64):
        with socket.create_connection(("127.0.0.1", server.grpc_port), timeout=10) as sock:
            sock.sendall(garbage)
            sock.settimeout(10)
            try:
                while sock.recv(1 << 16):
                    pass
            except (ConnectionResetError, TimeoutError, socket.timeout):
                pass
    assert_still_serving(server, db)


# MARK: Durability: an OK means committed


class GRPCLoad:
    """Small exports over gRPC from several threads, each on its own channel, until stopped;
    every answer kept with its trace, code, trailers and time."""

    def __init__(self, server, threads: int = 4):
        self.server = server
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.outcomes: list[tuple[str, int, grpc.StatusCode, dict, float]] = []

    def start(self) -> "GRPCLoad":
        for thread in self.threads:
            thread.start()
        return self

    def run(self) -> None:
        with grpc.insecure_channel(self.server.grpc_target) as channel:
            call = channel.unary_unary(EXPORT)
            while not self.stopping.is_set():
                spans = simple_trace("grpc-load", spans=3)
                body = export_bytes({"grpc-load": spans})
                sent = time.monotonic()
                try:
                    call.with_call(body, timeout=30)
                    code, trailers = grpc.StatusCode.OK, {}
                except grpc.RpcError as error:
                    code, trailers = error.code(), dict(error.trailing_metadata() or ())
                with self.lock:
                    self.outcomes.append((spans[0].trace_id.hex(), 3, code, trailers, time.monotonic() - sent))
                if code != grpc.StatusCode.OK:
                    time.sleep(0.05)

    def acknowledged(self) -> list[tuple]:
        with self.lock:
            return [o for o in self.outcomes if o[2] == grpc.StatusCode.OK]

    def wait_for_acks(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged()) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged())} acknowledged exports"
            time.sleep(0.05)

    def finish(self) -> list[tuple]:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)
        with self.lock:
            return list(self.outcomes)


def assert_all_stored(db, acknowledged: list[tuple]) -> None:
    rows = db.rows(
        "SELECT observability.hex_trace_id(trace_id) AS t, count(*) AS n FROM observability.spans "
        "WHERE trace_id = ANY(%s::uuid[]) GROUP BY 1", [trace_uuid(bytes.fromhex(o[0])) for o in acknowledged])
    stored = {r["t"]: r["n"] for r in rows}
    missing = [o[0] for o in acknowledged if stored.get(o[0], 0) != o[1]]
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged exports not (fully) stored: {missing[:5]}"


def test_kill_9_under_grpc_load_loses_no_acknowledged_span(make_database, start_server):
    db = make_database()
    server = start_server(db, OBSERVABILITY_BATCH_MAX_WAIT_MS="20")
    load = GRPCLoad(server, threads=6).start()
    try:
        load.wait_for_acks(200, timeout=60)
        server.kill()
    finally:
        outcomes = load.finish()
    acknowledged = [o for o in outcomes if o[2] == grpc.StatusCode.OK]
    assert len(acknowledged) >= 200
    assert_all_stored(db, acknowledged)


def test_postgres_stopped_under_grpc_load_gives_unavailable_with_retry_info(private_cluster, start_server):
    db = Database.create(private_cluster.admin_url)
    server = start_server(db)
    load = GRPCLoad(server, threads=4).start()
    try:
        load.wait_for_acks(30, timeout=60)
        private_cluster.control("stop")
        time.sleep(11)  # longer than the writer's write timeout: queued calls are answered meanwhile
        alive_during = server.is_alive()
        private_cluster.control("start")
        acked = len(load.acknowledged())
        load.wait_for_acks(acked + 20, timeout=60)
    finally:
        outcomes = load.finish()
    assert alive_during and server.is_alive(), server.log(last_lines=30)
    codes = Counter(o[2] for o in outcomes)
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, codes
    unavailable = [o for o in outcomes if o[2] == grpc.StatusCode.UNAVAILABLE]
    assert unavailable, codes
    for outcome in unavailable:
        delay = retry_delay_seconds(outcome[3])
        assert delay is not None and delay >= 1, outcome[3]
        assert outcome[4] < 10, f"an UNAVAILABLE took {outcome[4]:.1f} s, past OTLP's default timeout"
    assert_all_stored(db, [o for o in outcomes if o[2] == grpc.StatusCode.OK])
    server.stop()
    db.drop()


def retry_delay_seconds(trailers: dict) -> int | None:
    """The retry delay of an answer's trailers: from the google.rpc.Status details, checked
    to agree with the bare google.rpc.retryinfo-bin (where the Python exporter reads it)."""
    delays = []
    if "grpc-status-details-bin" in trailers:
        status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                delays.append(info.retry_delay.seconds)
    if "google.rpc.retryinfo-bin" in trailers:
        delays.append(error_details_pb2.RetryInfo.FromString(trailers["google.rpc.retryinfo-bin"]).retry_delay.seconds)
    assert len(delays) in (0, 2) and len(set(delays)) <= 1, (delays, list(trailers))
    return delays[0] if delays else None


# MARK: Self-tracing


def test_grpc_calls_are_self_traced_like_ingest_requests(make_database, start_server):
    """With OBSERVABILITY_TRACE_INGEST_REQUESTS, each call leaves a server span of the
    service's own; a call without the token leaves none, as HTTP's 401 does."""
    db = make_database()
    server = start_server(db, OBSERVABILITY_ENABLED="true", OBSERVABILITY_TRACE_INGEST_REQUESTS="true",
                          OBSERVABILITY_INGEST_TOKEN=TOKEN)
    good = (("authorization", "Bearer " + TOKEN),)
    assert export_call(server, export_bytes({"traced": simple_trace("traced")}), metadata=good)[0] == grpc.StatusCode.OK
    assert export_call(server, b"\xff" * 8, metadata=good)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert export_call(server, b"", metadata=())[0] == grpc.StatusCode.UNAUTHENTICATED
    query = ("SELECT kind, status, attributes FROM observability.spans WHERE service_name = %s AND name = %s "
             "ORDER BY start_time")
    spans = wait_for(lambda: len(rows := db.rows(query, SELF_SERVICE, EXPORT.lstrip("/"))) >= 2 and rows,
                     "two self-spans of Export calls")
    time.sleep(1)  # a third (the unauthenticated call's) would have arrived by now
    spans = db.rows(query, SELF_SERVICE, EXPORT.lstrip("/"))
    assert [(s["kind"], s["status"], s["attributes"]["rpc.grpc.status_code"]) for s in spans] == [
        ("server", "unset", 0), ("server", "error", 3)]
    assert spans[0]["attributes"]["rpc.system"] == "grpc"
    assert spans[0]["attributes"]["rpc.method"] == "Export"

import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ObservatoryConfiguration
import ObservatoryDemo
import ObservatoryIngest
import ObservatoryMigrations
import ObservatoryOTLP
import ObservatoryStore
import ObservatoryWeb
import PostgresNIO
import XCTest

/// The ingestion endpoints end to end: HTTP in, rows in PostgreSQL out.
final class IngestHTTPTests: XCTestCase {
    private static func withApp(
        _ tune: (inout ObservatoryConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol, PostgresClient) async throws -> Void
    ) async throws {
        try await TestDatabase.withApp(
            { configuration in
                configuration.maxBodyBytes = 64 * 1024
                tune(&configuration)
            }, body)
    }

    private static func demoRequest(traces: Int = 5, seed: UInt64 = 1)
        -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    {
        var traffic = DemoTraffic(seed: seed, startUnixNano: UInt64(Date().timeIntervalSince1970 * 1e9) - 60_000_000_000)
        return traffic.makeRequest(traces: traces)
    }

    private static func spanCount(_ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest) -> Int {
        request.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
    }

    private static let protobuf: HTTPFields = [.contentType: "application/x-protobuf"]
    private static let json: HTTPFields = [.contentType: "application/json"]

    func testProtobufExportIsCommittedBeforeTheAnswer() async throws {
        let request = Self.demoRequest()
        let body = ByteBuffer(bytes: try request.serializedData())
        try await Self.withApp { client, database in
            try await client.execute(uri: "/v1/traces", method: .post, headers: Self.protobuf, body: body) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/x-protobuf")
                let answer = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(
                    serializedBytes: Data(buffer: response.body))
                XCTAssertFalse(answer.hasPartialSuccess)
            }
            let value1 = try await database.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(value1, Self.spanCount(request))
            let value2 = try await database.scalar("SELECT count(*) FROM observability.traces")
            XCTAssertEqual(value2, 5)
        }
    }

    func testJSONExportWithPartialSuccess() async throws {
        let body = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"py"}}]},"scopeSpans":[{"spans":[
              {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"tools/call ok","startTimeUnixNano":"\(UInt64(Date().timeIntervalSince1970 * 1e9))","endTimeUnixNano":"\(UInt64(Date().timeIntervalSince1970 * 1e9) + 1000)"},
              {"traceId":"5b8efff798038103d269b633813fc6","spanId":"eee19b7ec3c1b175","name":"short id","startTimeUnixNano":"1","endTimeUnixNano":"2"}
            ]}]}]}
            """
        try await Self.withApp { client, database in
            try await client.execute(uri: "/v1/traces", method: .post, headers: Self.json, body: ByteBuffer(string: body)) {
                response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/json")
                let answer = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(
                    jsonUTF8Data: Data(buffer: response.body))
                XCTAssertEqual(answer.partialSuccess.rejectedSpans, 1)
                XCTAssertTrue(
                    answer.partialSuccess.errorMessage.contains("trace id must be 16 bytes, got 15"),
                    answer.partialSuccess.errorMessage)
            }
            let value3 = try await database.strings("SELECT target FROM observability.spans")
            XCTAssertEqual(value3, ["ok"])
        }
    }

    func testUndecodableBodiesGet400WithStatus() async throws {
        try await Self.withApp { client, _ in
            for (headers, body) in [
                (Self.protobuf, ByteBuffer(bytes: [0x0A, 0xFF, 0xFF])), (Self.json, ByteBuffer(string: "{\"resourceSpans\": 5}")),
            ] {
                try await client.execute(uri: "/v1/traces", method: .post, headers: headers, body: body) { response in
                    XCTAssertEqual(response.status, .badRequest)
                    let status =
                        headers == Self.protobuf
                        ? try Google_Rpc_Status(serializedBytes: Data(buffer: response.body))
                        : try Google_Rpc_Status(jsonUTF8Data: Data(buffer: response.body))
                    XCTAssertEqual(status.code, 3)
                    XCTAssertFalse(status.message.isEmpty)
                }
            }
        }
    }

    func testContentTypeEncodingAndSizeLimits() async throws {
        try await Self.withApp { client, _ in
            try await client.execute(
                uri: "/v1/traces", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "x")
            ) {
                XCTAssertEqual($0.status, .unsupportedMediaType)
            }
            try await client.execute(
                uri: "/v1/traces", method: .post, headers: [.contentType: "application/x-protobuf", .contentEncoding: "br"],
                body: ByteBuffer(string: "x")
            ) { XCTAssertEqual($0.status, .unsupportedMediaType) }
            try await client.execute(
                uri: "/v1/traces", method: .post, headers: Self.protobuf, body: ByteBuffer(repeating: 1, count: 64 * 1024 + 1)
            ) {
                XCTAssertEqual($0.status, .contentTooLarge)
            }
            // A gzip bomb: 10 MiB of zeros compress to ~10 KiB, far over the 64 KiB limit once inflated.
            var zeros = ByteBuffer(repeating: 0, count: 10 * 1024 * 1024)
            let bomb = try zeros.compress(with: .gzip())
            XCTAssertLessThan(bomb.readableBytes, 64 * 1024)
            try await client.execute(
                uri: "/v1/traces", method: .post, headers: [.contentType: "application/x-protobuf", .contentEncoding: "gzip"],
                body: bomb
            ) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
                XCTAssertTrue(
                    try Google_Rpc_Status(serializedBytes: Data(buffer: response.body)).message.contains("after decompression"))
            }
            // Not gzip at all.
            try await client.execute(
                uri: "/v1/traces", method: .post, headers: [.contentType: "application/x-protobuf", .contentEncoding: "gzip"],
                body: ByteBuffer(string: "plain")
            ) { XCTAssertEqual($0.status, .badRequest) }
        }
    }

    func testGzipExportIsAccepted() async throws {
        let request = Self.demoRequest(traces: 3, seed: 9)
        var raw = ByteBuffer(bytes: try request.serializedData())
        let compressed = try raw.compress(with: .gzip())
        try await Self.withApp { client, database in
            try await client.execute(
                uri: "/v1/traces", method: .post, headers: [.contentType: "application/x-protobuf", .contentEncoding: "gzip"],
                body: compressed
            ) { XCTAssertEqual($0.status, .ok) }
            let value4 = try await database.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(value4, Self.spanCount(request))
        }
    }

    func testTokenIsRequiredWhenConfigured() async throws {
        let body = ByteBuffer(bytes: try Self.demoRequest(traces: 1).serializedData())
        try await Self.withApp({ $0.ingestToken = "s3cret" }) { client, database in
            for authorization in [nil, "Bearer wrong", "Bearer s3cre", "Basic s3cret"] {
                var headers = Self.protobuf
                if let authorization { headers[.authorization] = authorization }
                try await client.execute(uri: "/v1/traces", method: .post, headers: headers, body: body) {
                    XCTAssertEqual($0.status, .unauthorized, authorization ?? "none")
                }
            }
            try await client.execute(uri: "/api/v1/spans", method: .post, headers: Self.json, body: ByteBuffer(string: "{}")) {
                XCTAssertEqual($0.status, .unauthorized)
            }
            let value5 = try await database.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(value5, 0)
            var headers = Self.protobuf
            headers[.authorization] = "Bearer s3cret"
            try await client.execute(uri: "/v1/traces", method: .post, headers: headers, body: body) {
                XCTAssertEqual($0.status, .ok)
            }
        }
    }

    func testNativeEndpoint() async throws {
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        let body = """
            {"service_name":"gateway","spans":[
              {"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"tool.invoke","attributes":{"tool.name":"weather","authorization":"Bearer x"},"start_time":\(now),"end_time":\(now + 5_000_000),"status":"ok"},
              {"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"bad","name":"x","start_time":\(now),"end_time":\(now)}]}
            """
        try await Self.withApp { client, database in
            try await client.execute(uri: "/api/v1/spans", method: .post, headers: Self.json, body: ByteBuffer(string: body)) {
                response in
                XCTAssertEqual(response.status, .ok)
                let answer = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                XCTAssertEqual(answer?["accepted"] as? Int, 1)
                XCTAssertEqual(answer?["rejected"] as? Int, 1)
            }
            let value6 = try await database.strings(
                "SELECT target || ' ' || (attributes->>'authorization') FROM observability.spans")
            XCTAssertEqual(value6, ["weather [REDACTED]"])
            try await client.execute(uri: "/api/v1/spans", method: .post, headers: Self.json, body: ByteBuffer(string: "[1,2]")) {
                response in
                XCTAssertEqual(response.status, .badRequest)
                let answer = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                XCTAssertEqual(answer?["status"] as? Int, 400)
                XCTAssertNotNil(answer?["error"] as? String)
            }
        }
    }

    func testHealthAndReadiness() async throws {
        try await Self.withApp { client, _ in
            try await client.execute(uri: "/healthz", method: .get) { XCTAssertEqual($0.status, .ok) }
            try await client.execute(uri: "/readyz", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }
}

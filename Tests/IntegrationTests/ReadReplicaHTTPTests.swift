import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ObservatoryConfiguration
import ObservatoryStore
import ObservatoryWeb
import PostgresNIO
import XCTest

/// `OBSERVABILITY_READ_DATABASE_URL` over HTTP without a standby: a read database that is
/// no standby, and one that cannot be reached. Tests/python/test_read_replica.py runs a
/// real streaming standby.
final class ReadReplicaHTTPTests: XCTestCase {
    static let lagHeader = HTTPField.Name("Observatory-Replica-Lag-Seconds")!
    /// Nothing listens on port 1: every connection is refused.
    static let unreachable = try! DatabaseURL(parsing: "postgres://postgres@127.0.0.1:1/nothing?sslmode=disable")

    private static func text(_ response: TestResponse) -> String {
        String(buffer: response.body)
    }

    func testWithoutAReadReplicaNothingChanges() async throws {
        try await TestDatabase.withApp { client, _ in
            try await client.execute(uri: "/admin/observability/traces", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertNil(response.headers[Self.lagHeader])
                XCTAssertFalse(Self.text(response).contains("replica-lag"))
            }
            try await client.execute(uri: "/api/v1/traces", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertNil(response.headers[Self.lagHeader])
            }
        }
    }

    /// A read URL naming a primary (here the test database itself): the pages say so, and
    /// the lag is 0.
    func testAReadDatabaseThatIsNoStandbyIsNamedSo() async throws {
        try await TestDatabase.withApp(readDatabase: { $0 }) { client, _ in
            for uri in ["/admin/observability/traces", "/admin/observability/metrics", "/admin/observability/tools/fragment"] {
                try await client.execute(uri: uri, method: .get) { response in
                    XCTAssertEqual(response.status, .ok, uri)
                    XCTAssertEqual(response.headers[Self.lagHeader], "0.000", uri)
                }
            }
            try await client.execute(uri: "/admin/observability/traces", method: .get) { response in
                let html = Self.text(response)
                XCTAssertTrue(
                    html.contains(#"<span id="replica-lag" class="replica-lag replica-primary""#), "the line is in the header")
                XCTAssertTrue(html.contains(">Reads from a server that is not a standby</span>"))
            }
            try await client.execute(uri: "/api/v1/traces?window=1h", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[Self.lagHeader], "0.000")
            }
        }
    }

    /// A standby that cannot be reached: the pages and the read API answer 503 with
    /// `Retry-After` and say it is the read replica, without the driver's text; ingestion
    /// and readiness, on the primary, go on.
    func testAnUnreachableReadReplicaIs503AndIngestionGoesOn() async throws {
        try await TestDatabase.withApp(readDatabase: { _ in Self.unreachable }) { client, database in
            let clock = ContinuousClock()
            let started = clock.now
            try await client.execute(uri: "/admin/observability/traces", method: .get) { response in
                XCTAssertEqual(response.status, .serviceUnavailable)
                XCTAssertEqual(response.headers[.retryAfter], "5")
                XCTAssertNil(response.headers[Self.lagHeader])
                let html = Self.text(response)
                XCTAssertTrue(html.contains("<h1>Read replica unavailable</h1>"), html)
                XCTAssertTrue(html.contains("The read replica is unavailable (ingestion is not affected). Try again"), html)
                XCTAssertTrue(html.contains(#"class="replica-lag replica-unavailable""#), html)
                for raw in ["connectionError", "refused", "PSQLError", "127.0.0.1"] {
                    XCTAssertFalse(html.contains(raw), raw)
                }
            }
            // The standby's status is asked within 3 s, not the pool's minute of retries.
            XCTAssertLessThan(started.duration(to: clock.now), .seconds(8))
            try await client.execute(uri: "/api/v1/metrics/summary", method: .get) { response in
                XCTAssertEqual(response.status, .serviceUnavailable)
                XCTAssertEqual(response.headers[.retryAfter], "5")
                let answer = try XCTUnwrap(
                    JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                XCTAssertEqual(answer["error"] as? String, "the read replica is unavailable (ingestion is not affected)")
            }
            let now = UInt64(Date().timeIntervalSince1970 * 1e9)
            let body = """
                {"service_name":"gateway","spans":[
                  {"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"tool.invoke","start_time":\(now),"end_time":\(now + 5_000_000),"status":"ok"}]}
                """
            try await client.execute(
                uri: "/api/v1/spans", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: body)
            ) { response in
                XCTAssertEqual(response.status, .ok)
            }
            let stored = try await database.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(stored, 1)
            try await client.execute(uri: "/readyz", method: .get) { XCTAssertEqual($0.status, .ok) }
        }
    }
}

import Foundation
import XCTest

@testable import ObservatoryConfiguration

final class ConfigurationTests: XCTestCase {
    func testDefaults() throws {
        let configuration = try ObservatoryConfiguration.load(from: [:])
        XCTAssertEqual(configuration.port, 4318)
        XCTAssertEqual(configuration.host, "127.0.0.1")
        XCTAssertEqual(configuration.retentionDays, 7)
        XCTAssertEqual(configuration.maxTraces, 100_000)
        XCTAssertEqual(configuration.sampleRate, 1.0)
        XCTAssertEqual(configuration.excludePaths, ["/health", "/healthz", "/ready", "/metrics", "/static/.*"])
        XCTAssertEqual(configuration.maxBodyBytes, 16 * 1024 * 1024)
        XCTAssertNil(configuration.databaseURL)
    }

    func testEverySettingIsRead() throws {
        let configuration = try ObservatoryConfiguration.load(from: [
            "OBSERVABILITY_DATABASE_URL": "postgres://u:p%40ss@db.example:6543/obs?sslmode=require",
            "DATABASE_URL": "postgres://ignored/x",
            "OBSERVABILITY_HOST": "0.0.0.0", "OBSERVABILITY_PORT": "9000", "OBSERVABILITY_INGEST_TOKEN": "t",
            "OBSERVABILITY_ADMIN_USER": "admin", "OBSERVABILITY_ADMIN_PASSWORD": "pw", "OBSERVABILITY_MAX_BODY_BYTES": "2048",
            "OBSERVABILITY_SAMPLE_RATE": "0.25", "OBSERVABILITY_EXCLUDE_PATHS": " /a , /b.* ,",
            "OBSERVABILITY_EVENTS_ENABLED": "false",
            "OBSERVABILITY_ENABLED": "no", "OBSERVABILITY_TRACE_HTTP_REQUESTS": "0", "OBSERVABILITY_TRACE_RETENTION_DAYS": "30",
            "OBSERVABILITY_MAX_TRACES": "5_000", "OBSERVABILITY_METRICS_ENABLED": "off", "OBSERVABILITY_LOG_LEVEL": "DEBUG",
            "OBSERVABILITY_WRITER_QUEUE_SPANS": "50000", "OBSERVABILITY_BATCH_MAX_SPANS": "100",
            "OBSERVABILITY_BATCH_MAX_WAIT_MS": "0",
            "OBSERVABILITY_WRITER_CONNECTIONS": "2", "OBSERVABILITY_QUERY_CONNECTIONS": "3",
            "OBSERVABILITY_MAX_ATTRIBUTE_LENGTH": "100",
        ])
        let url = try XCTUnwrap(configuration.databaseURL)
        XCTAssertEqual(url.host, "db.example")
        XCTAssertEqual(url.port, 6543)
        XCTAssertEqual(url.user, "u")
        XCTAssertEqual(url.password, "p@ss")
        XCTAssertEqual(url.database, "obs")
        XCTAssertEqual(url.tls, .require)
        XCTAssertEqual(url.redactedDescription, "postgres://u:***@db.example:6543/obs")
        XCTAssertEqual(configuration.port, 9000)
        XCTAssertEqual(configuration.sampleRate, 0.25)
        XCTAssertEqual(configuration.excludePaths, ["/a", "/b.*"])
        XCTAssertFalse(configuration.eventsEnabled)
        XCTAssertFalse(configuration.enabled)
        XCTAssertFalse(configuration.traceHTTPRequests)
        XCTAssertFalse(configuration.metricsEnabled)
        XCTAssertEqual(configuration.retentionDays, 30)
        XCTAssertEqual(configuration.maxTraces, 5_000)
        XCTAssertEqual(configuration.logLevel, "debug")
        XCTAssertEqual(configuration.batchMaxWaitMilliseconds, 0)
        XCTAssertEqual(configuration.maxAttributeLength, 100)
    }

    func testCleanupIntervalTakesSecondsOrAUnit() throws {
        XCTAssertEqual(try ObservatoryConfiguration.load(from: [:]).cleanupIntervalSeconds, 3_600)
        let cases = ["90": 90, "90s": 90, "15m": 900, "1h": 3_600, "2H": 7_200, "1d": 86_400, "7d": 604_800, "1s": 1]
        for (raw, seconds) in cases {
            let configuration = try ObservatoryConfiguration.load(from: ["OBSERVABILITY_CLEANUP_INTERVAL": raw])
            XCTAssertEqual(configuration.cleanupIntervalSeconds, seconds, raw)
        }
        for raw in ["0", "0s", "8d", "-5m", "1w", "m", "1.5h", "99999999999999999999d", "1 h"] {
            XCTAssertThrowsError(try ObservatoryConfiguration.load(from: ["OBSERVABILITY_CLEANUP_INTERVAL": raw]), raw) { error in
                XCTAssertEqual(
                    (error as? ObservatoryConfiguration.Invalid)?.problems,
                    [
                        "OBSERVABILITY_CLEANUP_INTERVAL must be a duration from 1 s to 7 days, such as 30s, 15m, 1h or 1d, got \"\(raw)\""
                    ])
            }
        }
    }

    func testHTTPConnectionAndAccessSettings() throws {
        let defaults = try ObservatoryConfiguration.load(from: [:])
        XCTAssertEqual(defaults.httpIdleTimeoutSeconds, 30)
        XCTAssertEqual(defaults.httpBodyTimeoutSeconds, 60)
        XCTAssertEqual(defaults.httpMaxConnections, 1_000)
        XCTAssertEqual(defaults.allowedHosts, [])
        XCTAssertFalse(defaults.metricsPublic)

        let configuration = try ObservatoryConfiguration.load(from: [
            "OBSERVABILITY_HTTP_IDLE_TIMEOUT": "2m", "OBSERVABILITY_HTTP_BODY_TIMEOUT": "90",
            "OBSERVABILITY_HTTP_MAX_CONNECTIONS": "5_000", "OBSERVABILITY_METRICS_PUBLIC": "yes",
            "OBSERVABILITY_ALLOWED_HOSTS": " Obs.Example.COM., .example.org,, ::1 , 10.0.0.5,[fe80::1]",
        ])
        XCTAssertEqual(configuration.httpIdleTimeoutSeconds, 120)
        XCTAssertEqual(configuration.httpBodyTimeoutSeconds, 90)
        XCTAssertEqual(configuration.httpMaxConnections, 5_000)
        XCTAssertTrue(configuration.metricsPublic)
        XCTAssertEqual(configuration.allowedHosts, ["obs.example.com", ".example.org", "[::1]", "10.0.0.5", "[fe80::1]"])
        XCTAssertEqual(
            try ObservatoryConfiguration.load(from: ["OBSERVABILITY_HTTP_IDLE_TIMEOUT": "1h"]).httpIdleTimeoutSeconds, 3_600)
    }

    func testBadHTTPSettingsAreEachReported() {
        XCTAssertThrowsError(
            try ObservatoryConfiguration.load(from: [
                "OBSERVABILITY_METRICS_PUBLIC": "maybe",
                "OBSERVABILITY_ALLOWED_HOSTS": "https://obs.example.com/, obs.example.com:4318, good.example, a b",
                "OBSERVABILITY_HTTP_IDLE_TIMEOUT": "0",
                "OBSERVABILITY_HTTP_BODY_TIMEOUT": "2h",
                "OBSERVABILITY_HTTP_MAX_CONNECTIONS": "0",
            ])
        ) { error in
            XCTAssertEqual(
                (error as? ObservatoryConfiguration.Invalid)?.problems,
                [
                    "OBSERVABILITY_METRICS_PUBLIC must be true or false, got \"maybe\"",
                    "OBSERVABILITY_ALLOWED_HOSTS: \"https://obs.example.com/\" is not a host name; give names or addresses such as observatory.example.com or 10.0.0.5, without scheme, port or path",
                    "OBSERVABILITY_ALLOWED_HOSTS: \"obs.example.com:4318\" is not a host name; give names or addresses such as observatory.example.com or 10.0.0.5, without scheme, port or path",
                    "OBSERVABILITY_ALLOWED_HOSTS: \"a b\" is not a host name; give names or addresses such as observatory.example.com or 10.0.0.5, without scheme, port or path",
                    "OBSERVABILITY_HTTP_IDLE_TIMEOUT must be a duration from 1 s to 1 h, such as 30s, 15m, 1h or 1d, got \"0\"",
                    "OBSERVABILITY_HTTP_BODY_TIMEOUT must be a duration from 1 s to 1 h, such as 30s, 15m, 1h or 1d, got \"2h\"",
                    "OBSERVABILITY_HTTP_MAX_CONNECTIONS must be a whole number from 1 to 1000000, got \"0\"",
                ])
        }
        XCTAssertThrowsError(try ObservatoryConfiguration.load(from: ["OBSERVABILITY_ALLOWED_HOSTS": " , "])) { error in
            XCTAssertEqual(
                (error as? ObservatoryConfiguration.Invalid)?.problems,
                [
                    "OBSERVABILITY_ALLOWED_HOSTS lists no host; leave it unset to accept every host"
                ])
        }
    }

    func testDatabaseURLFallbackAndSocket() throws {
        let configuration = try ObservatoryConfiguration.load(from: ["DATABASE_URL": "postgresql:///obs?host=/run/postgresql"])
        XCTAssertEqual(configuration.databaseURL?.unixSocketPath, "/run/postgresql/.s.PGSQL.5432")
        XCTAssertEqual(configuration.databaseURL?.database, "obs")
    }

    func testEveryProblemIsReportedOnce() {
        XCTAssertThrowsError(
            try ObservatoryConfiguration.load(from: [
                "OBSERVABILITY_DATABASE_URL": "mysql://x/y",
                "OBSERVABILITY_PORT": "70000",
                "OBSERVABILITY_SAMPLE_RATE": "1.5",
                "OBSERVABILITY_TRACE_RETENTION_DAYS": "0",
                "OBSERVABILITY_EXCLUDE_PATHS": "/ok,([",
                "OBSERVABILITY_EVENTS_ENABLED": "maybe",
                "OBSERVABILITY_ADMIN_USER": "admin",
                "OBSERVABILITY_LOG_LEVEL": "loud",
                "OBSERVABILITY_WRITER_QUEUE_SPANS": "1000",
                "OBSERVABILITY_BATCH_MAX_SPANS": "2000",
            ])
        ) { error in
            guard let invalid = error as? ObservatoryConfiguration.Invalid else { return XCTFail("\(error)") }
            XCTAssertEqual(
                invalid.problems,
                [
                    "OBSERVABILITY_DATABASE_URL is not a usable PostgreSQL URL: the scheme must be postgres:// or postgresql://",
                    "OBSERVABILITY_PORT must be a whole number from 1 to 65535, got \"70000\"",
                    "OBSERVABILITY_ADMIN_USER and OBSERVABILITY_ADMIN_PASSWORD must be set together (only one is set)",
                    "OBSERVABILITY_SAMPLE_RATE must be a number from 0.0 to 1.0, got \"1.5\"",
                    "OBSERVABILITY_EXCLUDE_PATHS: \"([\" is not a valid regular expression",
                    "OBSERVABILITY_EVENTS_ENABLED must be true or false, got \"maybe\"",
                    "OBSERVABILITY_BATCH_MAX_SPANS (2000) must not exceed OBSERVABILITY_WRITER_QUEUE_SPANS (1000)",
                    "OBSERVABILITY_TRACE_RETENTION_DAYS must be a whole number from 1 to 365, got \"0\"",
                    "OBSERVABILITY_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical, got \"loud\"",
                ])
        }
    }

    func testGRPCPortIsOffWithZeroAndNeverTheHTTPPort() throws {
        XCTAssertEqual(try ObservatoryConfiguration.load(from: [:]).grpcPort, 4317)
        XCTAssertEqual(try ObservatoryConfiguration.load(from: ["OBSERVABILITY_GRPC_PORT": "0"]).grpcPort, 0)
        XCTAssertThrowsError(
            try ObservatoryConfiguration.load(from: ["OBSERVABILITY_PORT": "9000", "OBSERVABILITY_GRPC_PORT": "9000"])
        ) { error in
            XCTAssertEqual(
                (error as? ObservatoryConfiguration.Invalid)?.problems,
                [
                    "OBSERVABILITY_GRPC_PORT and OBSERVABILITY_PORT are both 9000; give gRPC another port, or 0 to turn it off"
                ])
        }
        XCTAssertThrowsError(try ObservatoryConfiguration.load(from: ["OBSERVABILITY_GRPC_PORT": "65536"]))
    }

    func testMissingDatabaseIsAProblemWhenRequired() {
        XCTAssertNoThrow(try ObservatoryConfiguration.load(from: [:]))
        XCTAssertThrowsError(
            try ObservatoryConfiguration.load(
                from: ["OBSERVABILITY_DATABASE_URL": "  ", "OBSERVABILITY_PORT": "0"], requiringDatabase: true)
        ) { error in
            XCTAssertEqual(
                (error as? ObservatoryConfiguration.Invalid)?.problems,
                [
                    "OBSERVABILITY_DATABASE_URL (or DATABASE_URL) is not set",
                    "OBSERVABILITY_PORT must be a whole number from 1 to 65535, got \"0\"",
                ])
        }
        // A blank OBSERVABILITY_DATABASE_URL falls back to DATABASE_URL.
        let configuration = try? ObservatoryConfiguration.load(
            from: ["OBSERVABILITY_DATABASE_URL": "", "DATABASE_URL": "postgres://h/d"], requiringDatabase: true)
        XCTAssertEqual(configuration?.databaseURL?.host, "h")
    }

    /// The read replica's URL: optional even for the commands that need the database, never
    /// taken from `DATABASE_URL`, parsed like the primary's and reported under its own name.
    func testReadDatabaseURLIsOptionalAndParsedLikeThePrimary() throws {
        let primaryOnly = try ObservatoryConfiguration.load(
            from: ["DATABASE_URL": "postgres://primary/obs", "OBSERVABILITY_READ_DATABASE_URL": "  "],
            requiringDatabase: true)
        XCTAssertEqual(primaryOnly.databaseURL?.host, "primary")
        XCTAssertNil(primaryOnly.readDatabaseURL, "blank is unset, and DATABASE_URL is the primary's only")

        let both = try ObservatoryConfiguration.load(
            from: [
                "OBSERVABILITY_DATABASE_URL": "postgres://primary/obs",
                "OBSERVABILITY_READ_DATABASE_URL": "postgresql://reader:s%3Acret@standby.internal:5433/obs?sslmode=require",
            ], requiringDatabase: true)
        let read = try XCTUnwrap(both.readDatabaseURL)
        XCTAssertEqual(read.host, "standby.internal")
        XCTAssertEqual(read.port, 5433)
        XCTAssertEqual(read.user, "reader")
        XCTAssertEqual(read.password, "s:cret")
        XCTAssertEqual(read.tls, .require)
        XCTAssertEqual(both.databaseURL?.host, "primary")

        for (raw, reason) in [
            ("mysql://standby/obs", "the scheme must be postgres:// or postgresql://"),
            ("postgres://standby:0/obs", "the port must be from 1 to 65535"),
            ("postgres://standby/obs?sslmode=verify-ca", "sslmode must be disable, prefer or require, got \"verify-ca\""),
        ] {
            XCTAssertThrowsError(
                try ObservatoryConfiguration.load(
                    from: ["OBSERVABILITY_DATABASE_URL": "postgres://primary/obs", "OBSERVABILITY_READ_DATABASE_URL": raw],
                    requiringDatabase: true), raw
            ) { error in
                XCTAssertEqual(
                    (error as? ObservatoryConfiguration.Invalid)?.problems,
                    ["OBSERVABILITY_READ_DATABASE_URL is not a usable PostgreSQL URL: \(reason)"], raw)
            }
        }
        // A read URL does not stand in for the primary.
        XCTAssertThrowsError(
            try ObservatoryConfiguration.load(
                from: ["OBSERVABILITY_READ_DATABASE_URL": "postgres://standby/obs"], requiringDatabase: true)
        ) { error in
            XCTAssertEqual(
                (error as? ObservatoryConfiguration.Invalid)?.problems,
                ["OBSERVABILITY_DATABASE_URL (or DATABASE_URL) is not set"])
        }
    }

    func testBadDatabaseURLs() {
        for (url, reason) in [
            ("postgres://host:0/db", "the port must be from 1 to 65535"),
            ("postgres://host/db?sslmode=verify-full", "sslmode must be disable, prefer or require, got \"verify-full\""),
            ("postgres:///db", "it names no host"),
        ] {
            XCTAssertThrowsError(try DatabaseURL(parsing: url)) { error in
                XCTAssertEqual((error as? DatabaseURL.ParseError)?.reason, reason, url)
            }
        }
    }
}

import Logging
import ObservatoryConfiguration
import ObservatoryIngest
import ObservatoryStore
import PostgresNIO
import ServiceLifecycle
import XCTest

final class SpanWriterTests: XCTestCase {
    private static func settings(capacity: Int = 10_000, batch: Int = 500, concurrency: Int = 2) -> SpanWriter.Settings {
        SpanWriter.Settings(
            queueCapacity: capacity, batchMaxSpans: batch, batchMaxWait: .milliseconds(2), concurrency: concurrency)
    }

    /// Runs the writer as a service for the duration of `body`, then shuts it down gracefully.
    private static func running(_ writer: SpanWriter, _ body: @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            try await body()
            writer.beginDraining()
            try await group.waitForAll()
        }
    }

    /// A cancelled writer (its service group cancelled after a failed startup check)
    /// returns instead of waiting forever for work, and refuses what comes after.
    func testCancellationEndsTheWriter() async throws {
        try await TestDatabase.with { _, client in
            let writer = SpanWriter(
                store: SpanStore(client: client, logger: TestDatabase.logger), settings: Self.settings(),
                logger: TestDatabase.logger)
            let running = Task { try await writer.run() }
            try await Task.sleep(for: .milliseconds(100))
            running.cancel()
            try await Deadline.run(within: .seconds(10), expired: CancellationError()) { try await running.value }
            do throws(SpanWriter.Rejection) {
                try await writer.submit([SpanFixtures.record(trace: TraceID(high: 3, low: 3), span: 1)])
                XCTFail("a cancelled writer accepted spans")
            } catch {
                XCTAssertEqual(error, .shuttingDown)
            }
        }
    }

    func testConcurrentRequestsAreAllCommittedBeforeTheyReturn() async throws {
        try await TestDatabase.with { _, client in
            let writer = SpanWriter(
                store: SpanStore(client: client, logger: TestDatabase.logger), settings: Self.settings(),
                logger: TestDatabase.logger)
            try await Self.running(writer) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for request in 0..<40 {
                        group.addTask {
                            let trace = TraceID(high: UInt64(request + 1), low: 99)
                            try await writer.submit((1...25).map { SpanFixtures.record(trace: trace, span: UInt64($0)) })
                            // Acknowledged means committed: the spans are visible right now.
                            let value1 = try await client.scalar(
                                "SELECT count(*) FROM observability.spans WHERE trace_id = '\(trace.hex)'")
                            XCTAssertEqual(value1, 25)
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let value2 = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(value2, 1_000)
            let statistics = writer.statistics
            XCTAssertEqual(statistics.committedSpans, 1_000)
            // Batching happened: fewer round trips than requests.
            XCTAssertLessThan(statistics.committedBatches, 40)
        }
    }

    func testAFullQueueRefusesInsteadOfBuffering() async throws {
        try await TestDatabase.with { _, client in
            // Not running: nothing drains, so the queue fills.
            let writer = SpanWriter(
                store: SpanStore(client: client, logger: TestDatabase.logger), settings: Self.settings(capacity: 1_000),
                logger: TestDatabase.logger)
            let waiting = Task {
                try await writer.submit((1...600).map { SpanFixtures.record(trace: TraceID(high: 1, low: 1), span: UInt64($0)) })
            }
            while writer.statistics.queuedSpans < 600 { try await Task.sleep(for: .milliseconds(5)) }
            do {
                try await writer.submit((1...600).map { SpanFixtures.record(trace: TraceID(high: 2, low: 2), span: UInt64($0)) })
                XCTFail("the second request does not fit and must be refused")
            } catch let rejection as SpanWriter.Rejection {
                XCTAssertEqual(rejection, .saturated(retryAfterSeconds: 1))
            }
            // Once the writer runs, the queued request completes.
            try await Self.running(writer) { try await waiting.value }
            let value3 = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(value3, 600)
        }
    }

    func testUnreachableDatabaseGives503Quickly() async throws {
        var url = TestDatabase.adminURL
        url.port = 1  // nothing listens there
        let client = PostgresClient(
            configuration: .observatory(url: url, maximumConnections: 1, applicationName: "tests"),
            backgroundLogger: TestDatabase.logger)
        var writerSettings = Self.settings()
        writerSettings.writeTimeout = .seconds(3)
        let writer = SpanWriter(
            store: SpanStore(client: client, logger: TestDatabase.logger), settings: writerSettings, logger: TestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await Self.running(writer) {
                let started = ContinuousClock.now
                do {
                    try await writer.submit([SpanFixtures.record(trace: TraceID(high: 1, low: 1), span: 1)])
                    XCTFail("nothing can be committed without a database")
                } catch let rejection as SpanWriter.Rejection {
                    XCTAssertEqual(rejection, .unavailable(retryAfterSeconds: 2))
                }
                XCTAssertLessThan(ContinuousClock.now - started, .seconds(8))
                // Right after, requests are refused without waiting for another timeout.
                do {
                    try await writer.submit([SpanFixtures.record(trace: TraceID(high: 1, low: 1), span: 2)])
                    XCTFail("expected an immediate refusal")
                } catch let rejection as SpanWriter.Rejection {
                    XCTAssertEqual(rejection, .unavailable(retryAfterSeconds: 2))
                }
            }
            group.cancelAll()
        }
    }

    func testOneBadRequestDoesNotFailItsBatch() async throws {
        try await TestDatabase.with { _, client in
            let writer = SpanWriter(
                store: SpanStore(client: client, logger: TestDatabase.logger),
                settings: SpanWriter.Settings(
                    queueCapacity: 10_000, batchMaxSpans: 1_000, batchMaxWait: .milliseconds(50), concurrency: 1),
                logger: TestDatabase.logger)
            let bad = {
                var record = SpanFixtures.record(trace: TraceID(high: 3, low: 3), span: 1)
                record.attributesJSON = "{not json"
                return record
            }()
            let good = SpanFixtures.record(trace: TraceID(high: 4, low: 4), span: 1)
            try await Self.running(writer) {
                async let badResult: Void = writer.submit([bad])
                async let goodResult: Void = writer.submit([good])
                do {
                    try await badResult
                    XCTFail("invalid JSON cannot be stored")
                } catch let rejection as SpanWriter.Rejection {
                    guard case .rejectedData = rejection else { return XCTFail("\(rejection)") }
                }
                try await goodResult
            }
            let value4 = try await client.strings("SELECT observability.hex_trace_id(trace_id) FROM observability.spans")
            XCTAssertEqual(value4, [good.traceID.hex])
        }
    }

    func testGracefulShutdownCommitsWhatWasAccepted() async throws {
        try await TestDatabase.with { _, client in
            let writer = SpanWriter(
                store: SpanStore(client: client, logger: TestDatabase.logger),
                settings: SpanWriter.Settings(
                    queueCapacity: 100_000, batchMaxSpans: 100, batchMaxWait: .milliseconds(20), concurrency: 1),
                logger: TestDatabase.logger)
            let submissions = (0..<20).map { request in
                Task {
                    try await writer.submit(
                        (1...50).map { SpanFixtures.record(trace: TraceID(high: UInt64(request + 1), low: 7), span: UInt64($0)) })
                }
            }
            while writer.statistics.queuedSpans < 1_000 { try await Task.sleep(for: .milliseconds(5)) }
            // Shutdown begins before the writer ever ran: everything queued must still be written.
            writer.beginDraining()
            try await writer.run()
            for submission in submissions { try await submission.value }
            let value5 = try await client.scalar("SELECT count(*) FROM observability.spans")
            XCTAssertEqual(value5, 1_000)
            do {
                try await writer.submit([SpanFixtures.record(trace: TraceID(high: 9, low: 9), span: 1)])
                XCTFail("a stopped writer accepts nothing")
            } catch let rejection as SpanWriter.Rejection {
                XCTAssertEqual(rejection, .shuttingDown)
            }
        }
    }
}

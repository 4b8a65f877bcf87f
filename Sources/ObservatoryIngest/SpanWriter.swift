import Logging
import Metrics
import NIOCore
import ObservatoryStore
import ServiceLifecycle
import Synchronization

/// The bounded queue between HTTP requests and PostgreSQL.
///
/// Requests hand their spans to ``submit(_:)`` and wait; workers take whatever has queued
/// up (up to a batch size, after a short wait to let a batch fill), write it in one round
/// trip, and only then answer every request in the batch. So a 200 means committed. A
/// request that would take the queue past its capacity is refused at once (429) instead
/// of buffered; the one exception is a single request larger than the whole capacity,
/// taken when the queue is empty (the body size limit bounds it). When PostgreSQL is
/// unreachable or a write times out, the batch and every queued request fail with 503 and
/// new ones are refused for a moment, so clients back off instead of piling up.
public final class SpanWriter: Service, Sendable {
    public struct Settings: Sendable {
        /// Spans accepted but not committed, at most.
        public var queueCapacity: Int
        /// Spans per round trip, at most (a single larger request still goes as one batch).
        public var batchMaxSpans: Int
        /// How long a worker waits for a batch to fill once spans are queued.
        public var batchMaxWait: Duration
        /// Batches written at once, each on its own connection.
        public var concurrency: Int
        /// A write that takes longer is abandoned (cancelled, left to end in the background)
        /// and its requests get 503 at once. Well under the 10 s
        /// that OpenTelemetry exporters wait by default, so they see the 503 and its
        /// Retry-After rather than a timeout of their own. A healthy batch takes a fraction
        /// of a second; each worker has its own connection, so none waits for a lease.
        public var writeTimeout: Duration = .seconds(4)
        /// After an unreachable database, new requests are refused this long before the next try.
        public var unavailableCooldown: Duration = .seconds(1)

        public init(queueCapacity: Int, batchMaxSpans: Int, batchMaxWait: Duration, concurrency: Int) {
            self.queueCapacity = queueCapacity
            self.batchMaxSpans = batchMaxSpans
            self.batchMaxWait = batchMaxWait
            self.concurrency = concurrency
        }
    }

    /// Why spans were not stored; each maps to an HTTP status with `Retry-After` where retrying helps.
    public enum Rejection: Error, Equatable, CustomStringConvertible {
        /// The queue is full (429).
        case saturated(retryAfterSeconds: Int)
        /// PostgreSQL is unreachable or the write timed out (503).
        case unavailable(retryAfterSeconds: Int)
        /// The service is shutting down (503).
        case shuttingDown
        /// The database refused this request's data (400); other requests in its batch were stored.
        case rejectedData(String)
        /// The write failed for a reason on our side, such as a broken schema (500).
        case failed(String)

        public var description: String {
            switch self {
            case .saturated: "the span writer's queue is full; retry later"
            case .unavailable: "the database is unavailable; retry later"
            case .shuttingDown: "the service is shutting down; retry against another instance or later"
            case .rejectedData(let reason): "the database refused the spans: \(reason)"
            case .failed: "the spans could not be stored because of a server-side error; see the service log"
            }
        }
    }

    /// Running totals, for logs, `/metrics` and the benchmark.
    public struct Statistics: Sendable, Equatable {
        public var committedSpans = 0
        public var committedBatches = 0
        /// Spans skipped because they were already stored (client retries).
        public var duplicateSpans = 0
        public var failedBatches = 0
        public var refusedRequests = 0
        public var queuedSpans = 0
    }

    private struct Pending {
        var records: [SpanRecord]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// Requests waiting for a batch, oldest first. A ring buffer that gives up each
        /// request as it is taken: an array with a moving head kept up to 1,024 taken
        /// requests' spans alive, which was most of the server's memory (463 MiB in a
        /// 1 M-span run at 16 connections, whatever the queue capacity).
        var queue = CircularBuffer<Pending>()
        var queuedSpans = 0
        var idleWorkers: [CheckedContinuation<Void, Never>] = []
        var draining = false
        var refuseUntil: ContinuousClock.Instant?
        var statistics = Statistics()

        var isEmpty: Bool { queue.isEmpty }

        mutating func popUpTo(spans limit: Int) -> [Pending] {
            var taken: [Pending] = []
            var count = 0
            while let next = queue.first, taken.isEmpty || count + next.records.count <= limit {
                count += next.records.count
                taken.append(queue.removeFirst())
            }
            queuedSpans -= count
            return taken
        }

        mutating func popAll() -> [Pending] {
            let rest = Array(queue)
            queue.removeAll(keepingCapacity: true)
            queuedSpans = 0
            return rest
        }
    }

    public let settings: Settings
    private let store: SpanStore
    private let logger: Logger
    private let state = Mutex(State())
    private let clock = ContinuousClock()
    /// Spans per committed batch and the time each commit took, for `/metrics`.
    private let batchSpans = Recorder(label: "observatory_writer_batch_spans", aggregate: true)
    private let commitTimer = Metrics.Timer(label: "observatory_writer_commit_seconds")
    /// Spans skipped as already stored (client retries), apart from the new ones.
    private let duplicates = Counter(label: "observatory_writer_duplicate_spans_total")

    public init(store: SpanStore, settings: Settings, logger: Logger) {
        self.store = store
        self.settings = settings
        self.logger = logger
    }

    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.queuedSpans = state.queuedSpans
            return statistics
        }
    }

    /// Returns once `records` are committed, or throws why they were not.
    public func submit(_ records: [SpanRecord]) async throws(Rejection) {
        guard !records.isEmpty else { return }
        do {
            try await enqueue(records)
        } catch let rejection as Rejection {
            throw rejection
        } catch {
            // Every continuation is resumed with a Rejection; nothing else reaches here.
            throw .failed(String(describing: error))
        }
    }

    private func enqueue(_ records: [SpanRecord]) async throws {
        let now = clock.now
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enum Decision { case refuse(Rejection), enqueue(wake: CheckedContinuation<Void, Never>?) }
            let decision: Decision = state.withLock { state in
                if state.draining {
                    state.statistics.refusedRequests += 1
                    return .refuse(.shuttingDown)
                }
                if let until = state.refuseUntil, now < until {
                    state.statistics.refusedRequests += 1
                    return .refuse(.unavailable(retryAfterSeconds: 2))
                }
                if state.queuedSpans > 0, state.queuedSpans + records.count > settings.queueCapacity {
                    state.statistics.refusedRequests += 1
                    return .refuse(.saturated(retryAfterSeconds: 1))
                }
                state.queue.append(Pending(records: records, continuation: continuation))
                state.queuedSpans += records.count
                return .enqueue(wake: state.idleWorkers.popLast())
            }
            switch decision {
            case .refuse(let rejection): continuation.resume(throwing: rejection)
            case .enqueue(let worker): worker?.resume()
            }
        }
    }

    /// Runs the workers until graceful shutdown, then writes what is still queued and returns.
    /// Cancellation (the service group cancelled after another service failed, e.g. a
    /// startup check) drains the same way: idle workers wait on continuations that only
    /// draining resumes, so without it the process would never end.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<settings.concurrency {
                        group.addTask { await self.work() }
                    }
                }
            } onGracefulShutdown: {
                self.beginDraining()
            }
        } onCancel: {
            self.beginDraining()
        }
        logger.info("span writer stopped", metadata: ["committed_spans": "\(statistics.committedSpans)"])
    }

    /// Stops accepting and wakes every idle worker so the queue drains.
    public func beginDraining() {
        let idle = state.withLock { state in
            state.draining = true
            defer { state.idleWorkers.removeAll() }
            return state.idleWorkers
        }
        idle.forEach { $0.resume() }
    }

    private func work() async {
        while let batch = await nextBatch() {
            await write(batch)
        }
    }

    /// The next batch, or nil when draining and nothing is left.
    private func nextBatch() async -> [Pending]? {
        while true {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if !state.isEmpty || state.draining { return true }
                    state.idleWorkers.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
            let (queued, draining) = state.withLock { ($0.queuedSpans, $0.draining) }
            if queued == 0 {
                if draining { return nil }
                continue
            }
            if !draining, settings.batchMaxWait > .zero, settings.batchMaxSpans > queued {
                try? await Task.sleep(for: settings.batchMaxWait)
            }
            let batch = state.withLock { $0.popUpTo(spans: settings.batchMaxSpans) }
            if !batch.isEmpty { return batch }
        }
    }

    private func write(_ batch: [Pending]) async {
        let records = batch.count == 1 ? batch[0].records : batch.flatMap(\.records)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let started = clock.now
                let inserted = try await writeWithTimeout(records)
                commitTimer.record(duration: clock.now - started)
                batchSpans.record(records.count)
                duplicates.increment(by: records.count - inserted)
                state.withLock { state in
                    state.statistics.committedSpans += inserted
                    state.statistics.duplicateSpans += records.count - inserted
                    state.statistics.committedBatches += 1
                    state.refuseUntil = nil
                }
                batch.forEach { $0.continuation.resume() }
                return
            } catch .transient(let message) where attempt < 4 {
                logger.debug("retrying batch after a transient conflict", metadata: ["error": "\(message)"])
                continue
            } catch .unavailable(let message) {
                logger.warning("database unavailable; failing queued requests with 503", metadata: ["error": "\(message)"])
                let queued = state.withLock { state in
                    state.statistics.failedBatches += 1
                    state.refuseUntil = clock.now.advanced(by: settings.unavailableCooldown)
                    return state.popAll()
                }
                for pending in batch + queued {
                    pending.continuation.resume(throwing: Rejection.unavailable(retryAfterSeconds: 2))
                }
                return
            } catch {
                // Find the request(s) responsible by writing each on its own, so one bad
                // request does not fail the others in its batch.
                if batch.count > 1 {
                    for pending in batch { await write([pending]) }
                    return
                }
                logger.error("could not store a request's spans", metadata: ["error": "\(error)"])
                state.withLock { $0.statistics.failedBatches += 1 }
                if case .rejectedData = error {
                    batch[0].continuation.resume(throwing: Rejection.rejectedData(error.clientDescription))
                } else {
                    batch[0].continuation.resume(throwing: Rejection.failed(error.clientDescription))
                }
                return
            }
        }
    }

    /// The write, or `.unavailable` once `writeTimeout` has passed, whichever comes first.
    /// If an abandoned write commits after all, the client's retry is recognised as a
    /// duplicate.
    private func writeWithTimeout(_ records: [SpanRecord]) async throws(DatabaseError) -> Int {
        let store = self.store
        let timeout = settings.writeTimeout
        do {
            return try await Deadline.run(
                within: timeout, expired: DatabaseError.unavailable("the write did not finish within \(timeout)")
            ) {
                try await store.write(records)
            }
        } catch {
            throw DatabaseError(error)
        }
    }
}

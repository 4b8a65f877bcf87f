import Foundation
import Logging
import Metrics
import ObservatoryStore
import Tracing

/// The maintenance jobs themselves, shared by the services of `serve` and by
/// `observatory maintenance run-once`. Each run is its own trace (a root span with the
/// job's DB spans under it, when self-tracing is on), one structured log line with its
/// counts, a row in `maintenance_log`, and the `/metrics` figures
/// `observatory_maintenance_runs_total` and `observatory_maintenance_duration_seconds`.
public struct MaintenanceRunner: Sendable {
    let partitions: PartitionStore
    let maintenance: MaintenanceStore
    let metrics: MetricsStore
    let calls: CallStore
    /// Who runs the jobs, as recorded in `maintenance_log` and `maintenance_jobs`.
    public let owner: String
    let retentionDays: Int
    let maxTraces: Int
    let maxSelfTraces: Int
    /// How long a trace must have been quiet before its calls are assembled.
    let callSettle: Duration
    let logger: Logger

    /// Traces one `assemble_calls()` transaction assembles at most; a backlog takes
    /// several, each committed on its own.
    static let assemblyBatchTraces = 20_000
    /// Batches one assembly run goes through at most before it lets the rollup and the
    /// refreshes of its loop have their turn.
    static let assemblyBatchesPerRun = 10
    /// Days one compaction run rewrites at most, so that a freshly upgraded store's
    /// backlog does not hold the cleanup loop for long.
    static let compactionDaysPerRun = 4

    public init(
        partitions: PartitionStore, maintenance: MaintenanceStore, metrics: MetricsStore, calls: CallStore, owner: String,
        retentionDays: Int, maxTraces: Int, maxSelfTraces: Int, callSettle: Duration, logger: Logger
    ) {
        self.partitions = partitions
        self.maintenance = maintenance
        self.metrics = metrics
        self.calls = calls
        self.owner = owner
        self.retentionDays = retentionDays
        self.maxTraces = maxTraces
        self.maxSelfTraces = maxSelfTraces
        self.callSettle = callSettle
        self.logger = logger
    }

    /// The name a process records as the owner of its runs: host and process id, which
    /// is what an operator needs to find the replica.
    public static func processOwner() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Whether this process should run `job` now (see `MaintenanceStore.claim`). A
    /// database error counts as "no": the next poll tries again.
    public func claim(_ job: String, every: Duration) async -> Bool {
        do {
            return try await maintenance.claim(job: job, every: every, owner: owner)
        } catch {
            logger.warning("could not claim a maintenance job; will retry", metadata: ["job": "\(job)", "error": "\(error)"])
            return false
        }
    }

    /// Creates the daily partitions ahead (and any day with spans in the default
    /// partition). Today onwards only: yesterday's was created when it lay ahead, and
    /// recreating a day that retention has just dropped would churn an exclusive lock
    /// on `spans` every run. (`serve` creates yesterday's too, once, at startup.)
    @discardableResult
    public func ensurePartitions() async -> JobReport {
        await run("partitions") { () async throws(DatabaseError) -> [(String, String)]? in
            let created = try await partitions.ensurePartitions(daysBack: 0)
            return [
                ("partitions_created", "\(created.count)"),
                ("rows_moved", "\(created.reduce(0) { $0 + $1.rowsMoved })"),
            ]
        }
    }

    /// Drops expired partitions and rows and caps the number of traces (`enforce_retention()`,
    /// the work of `apply_retention()`). Its log row holds everything the SQL reports
    /// (bounds, skipped partitions, evicted and future traces), more than the log line.
    @discardableResult
    public func applyRetention() async -> JobReport {
        await run("retention") { () async throws(DatabaseError) -> JobReport.Done? in
            guard
                let done = try await maintenance.applyRetention(
                    days: retentionDays, maxTraces: maxTraces, maxSelfTraces: maxSelfTraces)
            else {
                return nil
            }
            let counts = [
                ("partitions_dropped", "\(done.partitionsDropped)"), ("spans_deleted", "\(done.spansDeleted)"),
                ("traces_deleted", "\(done.tracesDeleted)"), ("traces_remaining", "\(done.tracesRemaining)"),
                ("resources_deleted", "\(done.resourcesDeleted)"), ("scopes_deleted", "\(done.scopesDeleted)"),
                ("retention_days", "\(retentionDays)"), ("max_traces", "\(maxTraces)"),
            ]
            return JobReport.Done(counts: counts, details: done.details)
        }
    }

    /// Rewrites closed days' partitions compactly (`compact_span_partition()`), newest
    /// first, up to ``compactionDaysPerRun`` of them, each in its own transaction: a store
    /// upgraded to migration 0018 converts its older days a few at a time, and after that
    /// each day is compacted once, an hour after it ends. Skipped (no log row) when no day
    /// is waiting; stops early when a day could not be swapped in now.
    @discardableResult
    public func compactPartitions() async -> JobReport {
        await run("compaction") { () async throws(DatabaseError) -> [(String, String)]? in
            var done: [PartitionStore.Compacted] = []
            for name in try await partitions.partitionsToCompact().prefix(Self.compactionDaysPerRun) {
                guard let compacted = try await partitions.compact(name) else { break }
                done.append(compacted)
            }
            guard !done.isEmpty else { return nil }
            return [
                ("partitions_compacted", "\(done.count)"), ("spans", "\(done.reduce(0) { $0 + $1.spans })"),
                ("bytes_before", "\(done.reduce(0) { $0 + $1.bytesBefore })"),
                ("bytes_after", "\(done.reduce(0) { $0 + $1.bytesAfter })"),
            ]
        }
    }

    /// Assembles the MCP calls of the traces that changed since the last run and have
    /// settled (`assemble_calls()`), batch after batch while a backlog lasts, up to
    /// ``assemblyBatchesPerRun`` batches. Skipped (no log row) when nothing changed.
    @discardableResult
    public func assembleCalls() async -> JobReport {
        await run("calls") { () async throws(DatabaseError) -> [(String, String)]? in
            var traces = 0
            var written = 0
            for _ in 0..<Self.assemblyBatchesPerRun {
                let batch = try await calls.assemble(settle: callSettle, maxTraces: Self.assemblyBatchTraces)
                traces += batch.traces
                written += batch.calls
                if !batch.ran || batch.traces < Self.assemblyBatchTraces { break }
            }
            return traces == 0 ? nil : [("traces_assembled", "\(traces)"), ("calls_written", "\(written)")]
        }
    }

    /// Rolls up the minutes and hours that are new since the last rollup.
    @discardableResult
    public func rollup() async -> JobReport {
        await run("rollup") { () async throws(DatabaseError) -> [(String, String)]? in
            try await metrics.rollup() ? [] : nil
        }
    }

    /// Refreshes each of `windows` whose cadence has passed (every one with `force`),
    /// one transaction and one report per window. Windows that are not due are not
    /// attempted, so polls leave no trace behind.
    @discardableResult
    public func refresh(_ windows: [MetricWindow], force: Bool = false) async -> [JobReport] {
        let due: [MetricWindow]
        do {
            due = force ? windows : try await metrics.dueWindows().filter(windows.contains)
        } catch {
            logger.warning("could not read the metric windows' cadence; will retry", metadata: ["error": "\(error)"])
            return []
        }
        var reports: [JobReport] = []
        for window in due {
            let report = await run("refresh_\(window.rawValue)") { () async throws(DatabaseError) -> [(String, String)]? in
                guard let outcome = try await metrics.refresh(force: force, windows: [window], rollup: false).first,
                    outcome.refreshed
                else { return nil }
                return [("view_ms", "\(Int(outcome.durationMs ?? 0))")]
            }
            reports.append(report)
        }
        return reports
    }

    /// Runs one job: `body` returns the counts to report, or nil when there was nothing
    /// to do or another session was doing it (`skipped`).
    func run(_ job: String, _ body: () async throws(DatabaseError) -> [(String, String)]?) async -> JobReport {
        await run(job) { () async throws(DatabaseError) -> JobReport.Done? in
            guard let counts = try await body() else { return nil }
            return JobReport.Done(counts: counts)
        }
    }

    /// Runs one job: `body` returns what it did, or nil when there was nothing to do or
    /// another session was doing it (`skipped`). Every run that did something is logged
    /// the same way, through `log_maintenance_run()`.
    func run(_ job: String, _ body: () async throws(DatabaseError) -> JobReport.Done?) async -> JobReport {
        let started = Date()
        let clock = ContinuousClock()
        let start = clock.now
        var report = JobReport(job: job, outcome: .skipped, durationMs: 0, counts: [])
        await withSpan("maintenance \(job)", context: .topLevel, ofKind: .internal) { span in
            do {
                if let done = try await body() {
                    report.outcome = .ok
                    report.counts = done.counts
                    report.details = done.details
                }
            } catch {
                let failure = DatabaseError(error)
                report.outcome = .failed
                report.counts = [("error", failure.description)]
                span.setStatus(SpanStatus(code: .error, message: failure.clientDescription))
            }
            report.durationMs = (clock.now - start).milliseconds
            span.attributes["observatory.maintenance.job"] = job
            span.attributes["observatory.maintenance.outcome"] = report.outcome.rawValue
            if report.outcome == .ok {
                do {
                    try await maintenance.logRun(
                        job: job, owner: owner, startedAt: started,
                        finishedAt: started.addingTimeInterval(report.durationMs / 1000), details: report.detailsJSON)
                } catch {
                    logger.warning("could not record a maintenance run", metadata: ["job": "\(job)", "error": "\(error)"])
                }
            }
        }
        Counter(label: "observatory_maintenance_runs_total", dimensions: [("job", job), ("outcome", report.outcome.rawValue)])
            .increment()
        if report.outcome == .ok {
            Metrics.Timer(label: "observatory_maintenance_duration_seconds", dimensions: [("job", job)])
                .recordNanoseconds(Int64(report.durationMs * 1_000_000))
        }
        logger.log(level: report.outcome == .failed ? .warning : .info, "maintenance run", metadata: report.metadata)
        return report
    }
}

/// What one maintenance run did, for the log line, `run-once`'s output and the log table.
public struct JobReport: Sendable {
    public enum Outcome: String, Sendable {
        /// The job ran.
        case ok
        /// Nothing to do, or another session was doing it.
        case skipped
        /// The database refused or was unreachable; the next run tries again.
        case failed
    }

    public var job: String
    public var outcome: Outcome
    public var durationMs: Double
    /// Ordered name/value pairs: what was created, dropped, deleted.
    public var counts: [(String, String)]
    /// The `maintenance_log` details as a JSON object, when the job's SQL reports more
    /// than `counts`; nil logs `counts`.
    var details: String?

    /// What a job's body reports when it ran.
    struct Done {
        var counts: [(String, String)]
        var details: String? = nil
    }

    public var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [
            "job": "\(job)", "outcome": "\(outcome.rawValue)", "duration_ms": "\(Int(durationMs.rounded()))",
        ]
        for (name, value) in counts { metadata[name] = "\(value)" }
        return metadata
    }

    /// `details`, else `counts` as a JSON object; whole numbers stay numbers.
    var detailsJSON: String {
        if let details { return details }
        var object: [String: Any] = [:]
        for (name, value) in counts { object[name] = Int(value).map { $0 as Any } ?? value }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// One line for a terminal: `retention ok 812 ms partitions_dropped=2 ...`.
    public var line: String {
        ([job, outcome.rawValue, "\(Int(durationMs.rounded())) ms"] + counts.map { "\($0)=\($1)" })
            .joined(separator: " ")
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

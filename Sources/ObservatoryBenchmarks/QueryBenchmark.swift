import ArgumentParser
import Foundation
import Logging
import ObservatoryStartup
import ObservatoryStore
import PostgresNIO

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `observatory-bench refresh`: how long the metric rollups and each window's view take
/// to compute on the database at OBSERVABILITY_DATABASE_URL.
struct RefreshBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Time the first rollup, each window's view refresh, and an incremental refresh a minute later.",
        discussion: "`make bench-query` runs it after generating the data and before `observatory-bench query`."
    )

    func run() async throws {
        let configuration = try Runtime.loadConfiguration()
        let url = try Runtime.requireDatabaseURL(configuration)
        let logger = {
            var logger = Runtime.logger(configuration)
            logger.logLevel = .warning
            return logger
        }()
        try await PostgresClient.withRunning(
            .observatory(url: url, maximumConnections: 1, applicationName: "observatory-bench"), logger: logger
        ) { client in
            let now = Date()
            // The first rollup reads the whole 30-day backfill; later ones only new minutes.
            let rollup = try await Self.timed {
                _ = try await client.query("SELECT * FROM observability_internal.rollup_metrics(\(now))", logger: logger)
                    .collect()
            }
            print(String(format: "rollup_metrics, first run (30-day backfill): %9.1f ms", rollup))
            // The trace pages below show each span's rank from these histograms.
            let ranks = try await Self.timed {
                _ = try await client.query(
                    "SELECT observability_internal.refresh_rank_histograms(\(now))", logger: logger
                ).collect()
            }
            print(String(format: "refresh_rank_histograms (24 h of digests):   %9.1f ms", ranks))
            let store = MetricsStore(client: client, logger: logger)
            let refreshed = try await store.refresh(force: true, now: now)
            for window in refreshed {
                print(
                    String(
                        format: "refresh %-4@ view (REFRESH CONCURRENTLY):     %9.1f ms", window.window, window.durationMs ?? .nan
                    ))
            }
            // The baseline in the same run: the exact recomputation from every row that the
            // 7d and 30d views did before their digests (migration 0012), against the merge.
            for (window, interval) in [("7d", "7 days"), ("30d", "30 days")] {
                for function in ["window_metrics", "merged_window_metrics"] {
                    let elapsed = try await Self.timed {
                        _ = try await client.query(
                            "SELECT count(*) FROM observability.\(unescaped: function)(\(interval)::interval)", logger: logger
                        ).collect()
                    }
                    let label = "\(window) \(function)() alone:".padding(toLength: 44, withPad: " ", startingAt: 0)
                    print(label + String(format: "%9.1f ms", elapsed))
                }
            }
            let later = now.addingTimeInterval(60)
            var incremental: [MetricsStore.Refreshed] = []
            let total = try await Self.timed { incremental = try await store.refresh(now: later) }
            let windows = incremental.filter(\.refreshed).map(\.window).joined(separator: ", ")
            print(String(format: "refresh_metrics a minute later (rollup + %@):  %9.1f ms", windows, total))
        }
    }

    static func timed(_ body: () async throws -> Void) async throws -> Double {
        let clock = ContinuousClock()
        let started = clock.now
        try await body()
        let elapsed = started.duration(to: clock.now)
        return Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
    }
}

/// `observatory-bench query`: server time of every dashboard page and JSON twin at the
/// data volume of the database behind --url, read from the Server-Timing header.
struct QueryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Request each dashboard page and its JSON twin many times; print p50/p95 server time per route.",
        discussion: """
            Needs a running `observatory serve` on --url. Requests go one at a time on one \
            keep-alive connection, after one untimed warm-up request per route. The figure is the \
            server's own time (Server-Timing); the client's wall time, loopback included, is printed \
            next to it. The target is 50 ms p95 for every route but the trace comparisons, 100 ms.
            """
    )

    @Option(help: "Base URL of the server under test.")
    var url = "http://127.0.0.1:4318"

    @Option(help: "Requests per route.")
    var requests = 50

    @Option(help: "A trace to time the detail page with (32 hex digits), e.g. the 1,000-span trace.")
    var traceID: String?

    @Option(help: "A second trace (32 hex digits) to compare --trace-id with, e.g. a copy of it with other durations.")
    var compareTraceID: String?

    @Option(help: "p95 target of the comparison routes in milliseconds.")
    var compareTargetMs = 100.0

    @Option(help: "Tool name to filter the trace list by.")
    var tool: String?

    @Option(help: "Windows whose traces to export as NDJSON, comma-separated (empty for none).")
    var exportWindows = "1h,24h"

    @Option(help: "p95 target in milliseconds; routes above it are marked.")
    var targetMs = 50.0

    func run() async throws {
        guard let base = URL(string: url), let client = RawHTTPClient(url: base, token: nil) else {
            throw ValidationError("--url is not an http URL")
        }
        var routes: [(String, String)] = []
        for window in ["1h", "24h", "7d", "30d"] {
            routes.append(("summary \(window)", "/admin/observability/metrics?window=\(window)"))
            routes.append(("  json", "/api/v1/metrics/summary?window=\(window)"))
        }
        for page in ["tools", "prompts", "resources"] {
            for window in ["24h", "30d"] {
                routes.append(("\(page) \(window) top 100", "/admin/observability/\(page)?window=\(window)&limit=100"))
                routes.append(("  json", "/api/v1/metrics/\(page)?window=\(window)&limit=100"))
            }
        }
        routes.append(("tools fragment 24h", "/admin/observability/tools/fragment?window=24h"))
        for (label, query) in [
            ("traces 24h", "window=24h"), ("traces 30d failed", "window=30d&status=error"),
            ("traces 30d ≥ 1 s", "window=30d&min_ms=1000"),
        ] {
            routes.append((label, "/admin/observability/traces?\(query)"))
            routes.append(("  json", "/api/v1/traces?\(query)"))
        }
        // Attribute searches (`attr=`): one that no trace meets, so the search reads its
        // whole bound (the newest TraceStore.attributeScanLimit traces), one that meets a
        // few percent of traces, and a combination with a resource attribute.
        for (label, attributes) in [
            ("no match", ["http.response.status_code>599"]), ("5xx", ["http.response.status_code>499"]),
            ("tool + resource", ["gen_ai.tool.name exists", "resource:service.version=1.4.2"]),
        ] {
            let query = attributes.map {
                "attr="
                    + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ".-_")))
                        ?? $0)
            }.joined(separator: "&")
            for window in ["24h", "30d"] {
                routes.append(("attr \(window) \(label)", "/admin/observability/traces?window=\(window)&\(query)"))
                routes.append(("  json", "/api/v1/traces?window=\(window)&\(query)"))
            }
        }
        if let tool {
            let encoded = tool.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? tool
            routes.append(
                (
                    "traces 30d of one tool",
                    "/admin/observability/traces?window=30d&operation=\(SpanOperation.toolInvoke)&target=\(encoded)"
                ))
            routes.append(("  json", "/api/v1/traces?window=30d&operation=\(SpanOperation.toolInvoke)&target=\(encoded)"))
        }
        if let traceID {
            routes.append(("trace detail", "/admin/observability/traces/\(traceID)"))
            routes.append(("  json", "/api/v1/traces/\(traceID)"))
        }
        // The comparison routes have a target of their own (--compare-target-ms).
        var compareRoutes: [(String, String)] = []
        if let traceID, let compareTraceID {
            compareRoutes.append(("compare two traces", "/admin/observability/compare?a=\(traceID)&b=\(compareTraceID)"))
            compareRoutes.append(("  json", "/api/v1/compare?a=\(traceID)&b=\(compareTraceID)"))
        }
        if let traceID {
            compareRoutes.append(("compare with typical 24h", "/admin/observability/compare?a=\(traceID)&typical=24h"))
            compareRoutes.append(("  json", "/api/v1/compare?a=\(traceID)&typical=24h"))
        }

        print("route                          server p50   server p95   client p50   target")
        var worst = 0.0
        var worstCompare = 0.0
        let timed = routes.map { ($0.0, $0.1, false) } + compareRoutes.map { ($0.0, $0.1, true) }
        for (label, path, isCompare) in timed {
            let target = isCompare ? compareTargetMs : targetMs
            _ = client.getSequentially([path])  // warm-up, untimed
            let results = client.getSequentially(Array(repeating: path, count: requests))
            let failed = results.filter { $0 == nil || $0?.status != 200 }
            guard failed.isEmpty else {
                print(
                    "\(label.padding(toLength: 30, withPad: " ", startingAt: 0)) FAILED: \(failed.count) of \(requests) (\(path))"
                )
                throw ExitCode.failure
            }
            let server = results.compactMap { $0?.serverMilliseconds }.sorted()
            let clientTimes = results.compactMap { $0.map { $0.seconds * 1_000 } }.sorted()
            let p95 = Self.percentile(server, 0.95)
            if isCompare { worstCompare = max(worstCompare, p95) } else { worst = max(worst, p95) }
            print(
                String(
                    format: "%@ %9.2f ms %9.2f ms %9.2f ms   %@", label.padding(toLength: 30, withPad: " ", startingAt: 0),
                    Self.percentile(server, 0.5), p95, Self.percentile(clientTimes, 0.5),
                    p95 <= target ? "ok" : "OVER"))
        }
        print(String(format: "worst p95: %.2f ms (target %.0f ms)", worst, targetMs))
        if !compareRoutes.isEmpty {
            print(String(format: "worst comparison p95: %.2f ms (target %.0f ms)", worstCompare, compareTargetMs))
        }
        try await timeExports(base: base)
    }

    /// The downloads, timed by the client (a streamed answer's Server-Timing says only when
    /// its first bytes were ready): the trace's OTLP/JSON, and the NDJSON export of a
    /// whole window of traces, as traces per second.
    func timeExports(base: URL) async throws {
        if let traceID {
            var times: [Double] = []
            for round in 0...requests {
                let (seconds, _) = try await Self.download(base, "/api/v1/traces/\(traceID)/otlp")
                if round > 0 { times.append(seconds * 1_000) }  // the first is the warm-up
            }
            times.sort()
            print(
                String(
                    format: "trace OTLP/JSON export          %9.2f ms p50 %9.2f ms p95 (client time)",
                    Self.percentile(times, 0.5),
                    Self.percentile(times, 0.95)))
        }
        for window in exportWindows.split(separator: ",").map(String.init) {
            var best: (seconds: Double, traces: Int, bytes: Int)?
            for _ in 0..<3 {
                let (seconds, body) = try await Self.download(base, "/api/v1/traces.ndjson?window=\(window)")
                let traces = body.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
                if best.map({ seconds < $0.seconds }) ?? true { best = (seconds, traces, body.count) }
            }
            if let best {
                print(
                    String(
                        format: "NDJSON export %@: %d traces, %.1f MB in %.2f s: %.0f traces/s (best of 3)", window, best.traces,
                        Double(best.bytes) / 1e6, best.seconds, Double(best.traces) / best.seconds))
            }
        }
    }

    /// GETs `path` whole; its client time in seconds and its body. Fails on any status but 200.
    static func download(_ base: URL, _ path: String) async throws -> (Double, Data) {
        guard let url = URL(string: path, relativeTo: base) else { throw ValidationError("bad path \(path)") }
        let clock = ContinuousClock()
        let started = clock.now
        let (body, response) = try await URLSession.shared.data(from: url)
        let elapsed = started.duration(to: clock.now)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            print("FAILED: \(path) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            throw ExitCode.failure
        }
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, body)
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }
}

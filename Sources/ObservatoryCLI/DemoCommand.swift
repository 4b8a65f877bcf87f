import ArgumentParser
import Foundation
import ObservatoryDemo
import ObservatoryOTLP

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Send realistic MCP gateway traffic to a running server as OTLP/HTTP protobuf.",
        discussion: """
            Each trace is an HTTP request to an MCP gateway (`POST /mcp`) with a nested tools/call, \
            prompts/get or resources/read span, database and HTTP client spans below it from a second \
            service, a share of failures (exceptions with stack traces, JSON-RPC errors, tool results \
            with isError) and slow outliers. Trace start times are spread over the last --spread seconds. \
            Answers of 429 and 503 are retried after their Retry-After.
            """
    )

    @Option(help: "Base URL of the server; spans go to <url>/v1/traces.")
    var url = "http://127.0.0.1:4318"

    @Option(help: "How many traces to send.")
    var traces = 200

    @Option(help: "Traces per export request.")
    var batch = 50

    @Option(help: "Requests in flight at once.")
    var concurrency = 4

    @Option(help: "Seconds of history the traces are spread over, ending now.")
    var spread = 3600

    @Option(help: "Random seed; the same seed sends the same traffic.")
    var seed: UInt64 = 42

    @Option(help: "Bearer token for ingestion (default: OBSERVABILITY_INGEST_TOKEN).")
    var token: String?

    func validate() throws {
        guard traces > 0, batch > 0, concurrency > 0, spread > 0 else {
            throw ValidationError("--traces, --batch, --concurrency and --spread must be positive")
        }
        guard URL(string: url)?.host != nil else { throw ValidationError("--url must be an http(s) URL, got \(url)") }
    }

    func run() async throws {
        guard let base = URL(string: url) else { throw ExitCode.failure }
        let sender = OTLPSender(
            endpoint: base.appendingPathComponent("v1/traces"),
            token: token ?? ProcessInfo.processInfo.environment["OBSERVABILITY_INGEST_TOKEN"])
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        let window = UInt64(spread) * 1_000_000_000
        var traffic = DemoTraffic(seed: seed, startUnixNano: now - window, spacingNanos: window / UInt64(traces))

        var requests: [(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest, Int)] = []
        var remaining = traces
        while remaining > 0 {
            let count = min(batch, remaining)
            let request = traffic.makeRequest(traces: count)
            requests.append((request, count))
            remaining -= count
        }
        let spans = requests.reduce(0) { total, entry in
            total + entry.0.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
        }

        let started = Date()
        let report = try await ExportRunner(sender: sender, concurrency: concurrency)
            .send(requests.map(\.0), progressLabel: "demo", weights: requests.map(\.1))
        let seconds = Date().timeIntervalSince(started)
        print(
            "Sent \(traces) traces (\(spans) spans) in \(String(format: "%.1f", seconds)) s to \(base.absoluteString): "
                + "\(report.accepted) requests accepted, \(report.rejectedSpans) spans rejected, \(report.retries) retries, \(report.failed) requests failed."
        )
        if report.failed > 0 { throw ExitCode.failure }
    }
}

/// Sends export requests with bounded concurrency, retrying 429/503 after `Retry-After`.
struct ExportRunner {
    let sender: OTLPSender
    let concurrency: Int

    struct Report {
        var accepted = 0
        var failed = 0
        var retries = 0
        var rejectedSpans = 0
        /// Seconds each accepted request took, retries included.
        var latencies: [Double] = []
    }

    enum Outcome {
        case accepted(rejectedSpans: Int, retries: Int, seconds: Double)
        case failed(String)
    }

    func send(
        _ requests: [Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest], progressLabel: String, weights: [Int]
    ) async throws -> Report {
        let bodies = try requests.map { try $0.serializedData() }
        return await send(bodies: bodies, progressLabel: progressLabel, weights: weights)
    }

    func send(bodies: [Data], progressLabel: String, weights: [Int]) async -> Report {
        var progress = ProgressBar(total: weights.reduce(0, +), label: progressLabel)
        var report = Report()
        await withTaskGroup(of: (Int, Outcome).self) { group in
            var next = 0
            var done = 0
            func schedule() {
                guard next < bodies.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await sendWithRetries(bodies[index])) }
            }
            for _ in 0..<concurrency { schedule() }
            for await (index, outcome) in group {
                switch outcome {
                case .accepted(let rejected, let retries, let seconds):
                    report.accepted += 1
                    report.rejectedSpans += rejected
                    report.retries += retries
                    report.latencies.append(seconds)
                case .failed(let reason):
                    report.failed += 1
                    if report.failed <= 3 { Runtime.printError("request failed: \(reason)") }
                }
                done += weights[index]
                progress.update(done)
                schedule()
            }
        }
        progress.finish()
        return report
    }

    func sendWithRetries(_ body: Data) async -> Outcome {
        let started = Date()
        var retries = 0
        while true {
            do {
                let result = try await sender.send(body: body, contentType: "application/x-protobuf")
                if result.statusCode == 200 {
                    return .accepted(
                        rejectedSpans: Int(result.rejectedSpans ?? 0), retries: retries, seconds: Date().timeIntervalSince(started))
                }
                guard result.isRetryable, retries < 20 else {
                    return .failed("HTTP \(result.statusCode)\(result.message.map { ": \($0)" } ?? "")")
                }
                retries += 1
                try? await Task.sleep(for: .milliseconds(Int(1000 * min(Double(result.retryAfterSeconds ?? 1), 5))))
            } catch {
                guard retries < 5 else { return .failed("\(error)") }
                retries += 1
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

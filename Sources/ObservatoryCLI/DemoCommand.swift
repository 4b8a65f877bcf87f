import ArgumentParser
import Foundation
import ObservatoryConfiguration
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
            token: token ?? ProcessInfo.processInfo.environment[ObservatoryConfiguration.key(for: \.ingestToken)])
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

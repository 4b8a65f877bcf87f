import Foundation
import ObservatoryOTLP

/// Sends export requests with bounded concurrency, retrying 429/503 after `Retry-After`.
public struct ExportRunner: Sendable {
    let sender: OTLPSender
    let concurrency: Int

    public init(sender: OTLPSender, concurrency: Int) {
        self.sender = sender
        self.concurrency = concurrency
    }

    public struct Report: Sendable {
        public var accepted = 0
        public var failed = 0
        public var retries = 0
        public var rejectedSpans = 0
    }

    enum Outcome {
        case accepted(rejectedSpans: Int, retries: Int)
        case failed(String)
    }

    public func send(
        _ requests: [Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest], progressLabel: String, weights: [Int]
    ) async throws -> Report {
        let bodies = try requests.map { try $0.serializedData() }
        return await send(bodies: bodies, progressLabel: progressLabel, weights: weights)
    }

    public func send(bodies: [Data], progressLabel: String, weights: [Int]) async -> Report {
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
                case .accepted(let rejected, let retries):
                    report.accepted += 1
                    report.rejectedSpans += rejected
                    report.retries += retries
                case .failed(let reason):
                    report.failed += 1
                    if report.failed <= 3 { FileHandle.standardError.write(Data("request failed: \(reason)\n".utf8)) }
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
        var retries = 0
        while true {
            do {
                let result = try await sender.send(body: body, contentType: "application/x-protobuf")
                if result.statusCode == 200 {
                    return .accepted(rejectedSpans: Int(result.rejectedSpans ?? 0), retries: retries)
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

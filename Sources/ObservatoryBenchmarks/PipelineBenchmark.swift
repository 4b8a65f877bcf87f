import ArgumentParser
import Foundation
import NIOCore
import ObservatoryConfiguration
import ObservatoryDemo
import ObservatoryIngest
import ObservatoryStore

/// `observatory-bench pipeline`: the CPU cost of each ingest stage on one core, without
/// HTTP or a database, to see where a span's time goes. Timed in the process's CPU time,
/// not wall time, so that other work on the machine does not change the figures.
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Spans per second of protobuf decoding, the ingest pipeline and COPY encoding, on one core."
    )

    @Option(help: "Spans to push through each stage, at least.")
    var spans = 200_000

    @Option(help: "Which spans: mcp (rich MCP traces) or gateway (small gateway spans).")
    var shape = TrafficShape.mcp

    func run() async throws {
        let bodies = try shape.payloads(
            spans: spans, tracesPerRequest: 200,
            startUnixNano: UInt64(Date().timeIntervalSince1970 * 1e9) - 3_600_000_000_000
        ).bodies
        let pipeline = IngestPipeline(configuration: ObservatoryConfiguration())

        var clock = CPUClock.now
        let exports = try bodies.map { try OTLPProtobufDecoder.decode($0) }
        let decodeSeconds = CPUClock.now - clock

        // Each export's rows are made and let go, as the service lets them go once written:
        // kept, they would fill fresh pages of memory, which the service reuses. Gathering
        // the rows for the next stage, and freeing the decoded exports, are not timed.
        clock = CPUClock.now
        for export in exports { _ = pipeline.process(export).records.count }
        let processSeconds = CPUClock.now - clock
        let records = withExtendedLifetime(exports) { exports.flatMap { pipeline.process($0).records } }

        clock = CPUClock.now
        var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
        var bytes = 0
        for record in records {
            SpanCopyEncoder.encode(record, into: &buffer)
            if buffer.readableBytes > 1 << 20 {
                bytes += buffer.readableBytes
                buffer.clear()
            }
        }
        bytes += buffer.readableBytes
        let encodeSeconds = CPUClock.now - clock

        let count = Double(records.count)
        print(
            "\(records.count) spans, \(bodies.reduce(0) { $0 + $1.count } / records.count) protobuf bytes and \(bytes / records.count) COPY bytes per span"
        )
        print("protobuf decode:  \(Int(count / decodeSeconds)) spans/s")
        print("pipeline:         \(Int(count / processSeconds)) spans/s (validate, sample, redact, classify, serialize)")
        print("COPY encode:      \(Int(count / encodeSeconds)) spans/s")
        print("all three:        \(Int(count / (decodeSeconds + processSeconds + encodeSeconds))) spans/s")
    }
}

/// The process's CPU time in seconds (user and system, all threads); the stages run on one.
enum CPUClock {
    static var now: Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

import ArgumentParser
import Foundation
import NIOCore
import ObservatoryConfiguration
import ObservatoryDemo
import ObservatoryIngest
import ObservatoryStore

/// `observatory-bench pipeline`: the CPU cost of each ingest stage on one core, without
/// HTTP or a database, to see where a span's time goes.
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Spans per second of protobuf decoding, the ingest pipeline and COPY encoding, on one core."
    )

    @Option(help: "Spans to push through each stage, at least.")
    var spans = 200_000

    func run() async throws {
        var traffic = DemoTraffic(seed: 7, startUnixNano: UInt64(Date().timeIntervalSince1970 * 1e9) - 3_600_000_000_000)
        var bodies: [Data] = []
        var total = 0
        while total < spans {
            bodies.append(try traffic.makeRequest(traces: 200).serializedData())
            total += traffic.lastRequestSpanCount
        }
        let pipeline = IngestPipeline(configuration: ObservatoryConfiguration())

        var clock = ContinuousClock.now
        let exports = try bodies.map { try OTLPProtobufDecoder.decode($0) }
        let decodeSeconds = (ContinuousClock.now - clock).seconds

        clock = ContinuousClock.now
        let records = exports.flatMap { pipeline.process($0).records }
        let processSeconds = (ContinuousClock.now - clock).seconds

        clock = ContinuousClock.now
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
        let encodeSeconds = (ContinuousClock.now - clock).seconds

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

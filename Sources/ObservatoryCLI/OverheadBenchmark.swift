import ArgumentParser
import Foundation
import ObservatoryDemo

/// `observatory bench overhead`: what self-tracing costs in throughput. Two servers on
/// the same database, one with `OBSERVABILITY_ENABLED=true` and one with `false`, take
/// the same load in alternating rounds (on, off, then off, on, …), so drift in the
/// machine or the database (tables growing, caches warming) falls on both alike.
struct OverheadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overhead",
        abstract: "Requests per second of a dashboard route and of ingestion, self-tracing on vs off, alternating.",
        discussion: """
            Needs two running `observatory serve` on one database: --on with self-tracing enabled, \
            --off with OBSERVABILITY_ENABLED=false (`make bench-overhead` starts both). Each round \
            times --requests GETs of --route on each server, then posts an equal share of pre-encoded \
            OTLP exports to each. Prints every round, the medians, and the cost (1 - on/off).
            """
    )

    @Option(help: "Base URL of the server with self-tracing on.")
    var on: String

    @Option(help: "Base URL of the server with self-tracing off.")
    var off: String

    @Option(help: "The dashboard route to load.")
    var route = "/admin/observability/tools?window=24h"

    @Option(help: "Rounds; each measures both servers once per workload.")
    var rounds = 6

    @Option(help: "GETs of the route per server per round.")
    var requests = 3_000

    @Option(help: "Spans posted per server per round.")
    var spans = 100_000

    @Option(help: "Connections in flight at once.")
    var concurrency = 8

    func run() async throws {
        guard let onURL = URL(string: on), let offURL = URL(string: off),
            let onGet = RawHTTPClient(url: onURL, token: nil), let offGet = RawHTTPClient(url: offURL, token: nil),
            let onPost = RawHTTPClient(url: onURL.appendingPathComponent("v1/traces"), token: nil),
            let offPost = RawHTTPClient(url: offURL.appendingPathComponent("v1/traces"), token: nil)
        else { throw ValidationError("--on and --off must be http://host:port") }

        // Distinct exports for every measurement, so no round re-sends spans already stored.
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        var traffic = DemoTraffic(seed: 11, startUnixNano: now - 3_600_000_000_000, spacingNanos: 1_000_000)
        var chunks: [[Data]] = []
        var spansPerChunk: [Int] = []
        for _ in 0..<(2 * rounds) {
            var bodies: [Data] = []
            var count = 0
            while count < spans {
                bodies.append(try traffic.makeRequest(traces: 100).serializedData())
                count += traffic.lastRequestSpanCount
            }
            chunks.append(bodies)
            spansPerChunk.append(count)
        }

        // Warm both: connections, caches, the first self-spans.
        _ = onGet.getRepeatedly(route, count: 200, connections: concurrency)
        _ = offGet.getRepeatedly(route, count: 200, connections: concurrency)

        var pageRates: (on: [Double], off: [Double]) = ([], [])
        var ingestRates: (on: [Double], off: [Double]) = ([], [])
        print("round  route on  route off  ingest on  ingest off   (requests/s, spans/s)")
        for round in 0..<rounds {
            let order = round % 2 == 0 ? [true, false] : [false, true]
            var page: [Bool: Double] = [:]
            var ingest: [Bool: Double] = [:]
            for tracing in order {
                let client = tracing ? onGet : offGet
                let started = ContinuousClock.now
                let ok = client.getRepeatedly(route, count: requests, connections: concurrency)
                page[tracing] = Double(ok) / (ContinuousClock.now - started).seconds
                guard ok == requests else {
                    throw ValidationError("\(requests - ok) of \(requests) GETs failed on the \(tracing ? "on" : "off") server")
                }
            }
            for tracing in order {
                let chunk = 2 * round + (tracing ? 0 : 1)
                let started = ContinuousClock.now
                let (results, _) = (tracing ? onPost : offPost).postAll(chunks[chunk], connections: concurrency) { _ in }
                ingest[tracing] = Double(spansPerChunk[chunk]) / (ContinuousClock.now - started).seconds
                let failed = results.filter { $0?.status != 200 }.count
                guard failed == 0 else { throw ValidationError("\(failed) exports failed") }
            }
            pageRates.on.append(page[true]!)
            pageRates.off.append(page[false]!)
            ingestRates.on.append(ingest[true]!)
            ingestRates.off.append(ingest[false]!)
            print(
                "\(String(round + 1).padding(5))  \(format(page[true]!, 0).padding(8))  \(format(page[false]!, 0).padding(9))  "
                    + "\(format(ingest[true]!, 0).padding(9))  \(format(ingest[false]!, 0).padding(10))")
        }
        print("")
        report("dashboard \(route)", on: pageRates.on, off: pageRates.off, unit: "requests/s")
        report("ingestion POST /v1/traces", on: ingestRates.on, off: ingestRates.off, unit: "spans/s")
    }

    func report(_ name: String, on: [Double], off: [Double], unit: String) {
        let (medianOn, medianOff) = (median(on), median(off))
        let perRound = zip(on, off).map { 100 * (1 - $0 / $1) }.sorted()
        print("\(name):")
        print("  self-tracing on:  \(format(medianOn, 0)) \(unit) (median of \(on.count))")
        print("  self-tracing off: \(format(medianOff, 0)) \(unit)")
        print(
            "  cost: \(format(100 * (1 - medianOn / medianOff), 1)) % of throughput (per round: \(perRound.map { format($0, 1) }.joined(separator: ", ")) %)"
        )
    }

    func format(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

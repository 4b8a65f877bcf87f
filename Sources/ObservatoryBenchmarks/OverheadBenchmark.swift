import ArgumentParser
import Foundation
import ObservatoryDemo

/// `observatory-bench overhead`: what self-tracing costs in throughput. Two servers on
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
    var rounds = 20

    @Option(help: "GETs of the route per server per round.")
    var requests = 600

    @Option(help: "Spans posted per server per round.")
    var spans = 40_000

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

        // The two workloads in separate phases: an ingestion round leaves checkpoints and
        // autovacuum behind, which would land on whichever page round came next.
        var pageRates: (on: [Double], off: [Double]) = ([], [])
        print("dashboard route, requests/s:  round  on  off")
        for round in 0..<rounds {
            var rate: [Bool: Double] = [:]
            for tracing in round % 2 == 0 ? [true, false] : [false, true] {
                let started = ContinuousClock.now
                let ok = (tracing ? onGet : offGet).getRepeatedly(route, count: requests, connections: concurrency)
                rate[tracing] = Double(ok) / (ContinuousClock.now - started).seconds
                guard ok == requests else {
                    throw ValidationError("\(requests - ok) of \(requests) GETs failed on the \(tracing ? "on" : "off") server")
                }
            }
            pageRates.on.append(rate[true]!)
            pageRates.off.append(rate[false]!)
            print("  \(round + 1)  \(format(rate[true]!, 0))  \(format(rate[false]!, 0))")
        }
        var ingestRates: (on: [Double], off: [Double]) = ([], [])
        print("ingestion, spans/s:  round  on  off")
        for round in 0..<rounds {
            var rate: [Bool: Double] = [:]
            for tracing in round % 2 == 0 ? [true, false] : [false, true] {
                let chunk = 2 * round + (tracing ? 0 : 1)
                let started = ContinuousClock.now
                let (results, _) = (tracing ? onPost : offPost).postAll(chunks[chunk], connections: concurrency) { _ in }
                rate[tracing] = Double(spansPerChunk[chunk]) / (ContinuousClock.now - started).seconds
                let failed = results.filter { $0?.status != 200 }.count
                guard failed == 0 else { throw ValidationError("\(failed) exports failed") }
            }
            ingestRates.on.append(rate[true]!)
            ingestRates.off.append(rate[false]!)
            print("  \(round + 1)  \(format(rate[true]!, 0))  \(format(rate[false]!, 0))")
        }
        print("")
        report("dashboard \(route)", on: pageRates.on, off: pageRates.off, unit: "requests/s")
        report("ingestion POST /v1/traces", on: ingestRates.on, off: ingestRates.off, unit: "spans/s")
    }

    /// The cost is the median of the rounds' own costs: each round measures both servers
    /// back to back, so what drifts between rounds (checkpoints, autovacuum after an
    /// ingest round, the other processes of the machine) cancels within it.
    func report(_ name: String, on: [Double], off: [Double], unit: String) {
        let perRound = zip(on, off).map { 100 * (1 - $0 / $1) }.sorted()
        print("\(name):")
        print("  self-tracing on:  \(format(median(on), 0)) \(unit) (median of \(on.count) rounds)")
        print("  self-tracing off: \(format(median(off), 0)) \(unit)")
        print(
            "  cost: \(format(median(perRound), 1)) % of throughput, median of the rounds' paired costs "
                + "(interquartile \(format(perRound[perRound.count / 4], 1)) to \(format(perRound[perRound.count * 3 / 4], 1)) %)"
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

import ArgumentParser
import Foundation
import ObservatoryDemo

/// Which generated spans a benchmark sends: `mcp`, the demo's MCP traces (about five
/// spans a trace, rich attributes), or `gateway`, small gateway spans (`GatewayTraffic`).
enum TrafficShape: String, ExpressibleByArgument, CaseIterable {
    case mcp
    case gateway

    /// Serialized export requests holding at least `spans` spans, `traces` traces each,
    /// and how many spans they hold in all. Other seeds give other traces.
    func payloads(spans: Int, tracesPerRequest traces: Int, startUnixNano: UInt64, seed: UInt64 = 7) throws -> (
        bodies: [Data], spans: Int
    ) {
        var bodies: [Data] = []
        var total = 0
        switch self {
        case .mcp:
            var traffic = DemoTraffic(seed: seed, startUnixNano: startUnixNano, spacingNanos: 2_000_000)
            while total < spans {
                bodies.append(try traffic.makeRequest(traces: traces).serializedData())
                total += traffic.lastRequestSpanCount
            }
        case .gateway:
            var traffic = GatewayTraffic(seed: seed, startUnixNano: startUnixNano)
            // As many spans a request as the MCP shape's five-span traces give.
            let perRequest = max(1, traces * 5 / GatewayTraffic.spansPerTrace)
            while total < spans {
                bodies.append(try traffic.makeRequest(traces: perRequest).serializedData())
                total += perRequest * GatewayTraffic.spansPerTrace
            }
        }
        return (bodies, total)
    }
}

import Foundation
import ObservatoryDemo
import XCTest

@testable import ObservatoryIngest

/// Random and mutated payloads through every decoder and the pipeline: none may crash,
/// and each either decodes or fails with an `IngestError`.
final class DecoderFuzzTests: XCTestCase {
    func testTenThousandRandomAndMutatedPayloads() throws {
        var random = SplitMix64(seed: 0xF00D)
        var traffic = DemoTraffic(seed: 3, startUnixNano: 1_700_000_000_000_000_000)
        let protobufSeeds = try (0..<8).map { _ in try traffic.makeRequest(traces: 3).serializedData() }
        let jsonSeeds = try (0..<8).map { _ in try traffic.makeRequest(traces: 2).jsonUTF8Data() }
        let nativeSeed = Data(
            #"{"service_name":"g","spans":[{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"n","start_time":1,"end_time":2,"attributes":{"a":[1,{"b":null}]}}]}"#.utf8)
        let pipeline = IngestPipeline(
            policy: TracePolicy(sampleRate: 1, excludePaths: ["/health"]), redactor: Redactor(maxValueLength: 64),
            eventsEnabled: true)

        var decoded = 0
        var refused = 0
        for iteration in 0..<10_000 {
            let payload: Data
            switch iteration % 4 {
            case 0:
                payload = Data((0..<Int.random(in: 0...512, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            case 1:
                payload = mutate(protobufSeeds[iteration % protobufSeeds.count], using: &random)
            case 2:
                payload = mutate(jsonSeeds[iteration % jsonSeeds.count], using: &random)
            default:
                payload = mutate(nativeSeed, using: &random)
            }
            let decoders: [(Data) throws -> DecodedExport] = [
                { try OTLPProtobufDecoder.decode($0) }, { try OTLPJSONDecoder.decode($0) }, { try NativeSpanDecoder.decode($0) },
            ]
            for decode in decoders {
                do {
                    let export = try decode(payload)
                    _ = pipeline.process(export)
                    decoded += 1
                } catch {
                    refused += 1
                }
            }
        }
        XCTAssertEqual(decoded + refused, 30_000)
        // The mutations must leave some payloads decodable, or the pipeline was never exercised.
        XCTAssertGreaterThan(decoded, 1_000)
        XCTAssertGreaterThan(refused, 1_000)
    }

    /// Flips, deletes, duplicates and truncates bytes.
    private func mutate(_ seed: Data, using random: inout SplitMix64) -> Data {
        var bytes = [UInt8](seed)
        for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0: bytes[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
            case 2: bytes.remove(at: index)
            case 3: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 8)], at: index)
            default: bytes.removeLast(Int.random(in: 0...min(16, bytes.count), using: &random))
            }
        }
        return Data(bytes)
    }
}

import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// The benchmark's OTLP/gRPC exporter: grpc-swift's own client (SwiftNIO, HTTP/2), one
/// connection per lane, `concurrency` calls in flight, the same pre-encoded
/// `ExportTraceServiceRequest` bytes the HTTP leg posts. RESOURCE_EXHAUSTED and UNAVAILABLE
/// are retried after a second, as `RawHTTPClient` retries 429 and 503.
struct GRPCExportClient {
    static let method = MethodDescriptor(
        fullyQualifiedService: "opentelemetry.proto.collector.trace.v1.TraceService", method: "Export")

    let host: String
    let port: Int
    let token: String?

    /// Exports every body once; one result per body (its last attempt) and the retry count.
    func exportAll(
        _ bodies: [Data], connections: Int, progress: @escaping @Sendable (Int) -> Void
    ) async throws -> ([ExportResult?], Int) {
        let shared = Lanes(count: bodies.count)
        var metadata = Metadata()
        if let token { metadata.addString("Bearer \(token)", forKey: "authorization") }
        let request = metadata
        try await withThrowingDiscardingTaskGroup { group in
            for _ in 0..<connections {
                group.addTask {
                    let transport = try HTTP2ClientTransport.Posix(
                        target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
                    try await withGRPCClient(transport: transport) { client in
                        while true {
                            let index = shared.takeNext()
                            guard index < bodies.count else { break }
                            let started = ContinuousClock.now
                            var attempts = 0
                            var code = RPCError.Code.unavailable.rawValue
                            while attempts < 30 {
                                attempts += 1
                                code = await export(bodies[index], metadata: request, client: client)
                                guard
                                    code == RPCError.Code.resourceExhausted.rawValue || code == RPCError.Code.unavailable.rawValue
                                else { break }
                                try await Task.sleep(for: .seconds(1))
                            }
                            let result = ExportResult(code: code, seconds: (ContinuousClock.now - started).seconds)
                            let done = shared.record(result, at: index, retries: attempts - 1)
                            progress(done)
                        }
                    }
                }
            }
        }
        return shared.outcome
    }

    /// One call; its status code (0 for OK).
    private func export(_ body: Data, metadata: Metadata, client: GRPCClient<HTTP2ClientTransport.Posix>) async -> Int {
        do {
            return try await client.unary(
                request: ClientRequest(message: body, metadata: metadata), descriptor: Self.method,
                serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
            ) { response in
                _ = try response.message
                return 0
            }
        } catch let error as RPCError {
            return error.code.rawValue
        } catch {
            return RPCError.Code.unknown.rawValue
        }
    }

    /// What one export became: its gRPC status code and how long it took, retries included.
    struct ExportResult: Sendable {
        var code: Int
        var seconds: Double
    }

    /// The lanes' shared state: the next body to send, and the results so far.
    private final class Lanes: Sendable {
        private struct State {
            var next = 0
            var done = 0
            var retries = 0
            var results: [ExportResult?]
        }

        private let state: Mutex<State>

        init(count: Int) { state = Mutex(State(results: Array(repeating: nil, count: count))) }

        func takeNext() -> Int {
            state.withLock { state in
                defer { state.next += 1 }
                return state.next
            }
        }

        func record(_ result: ExportResult, at index: Int, retries more: Int) -> Int {
            state.withLock { state in
                state.results[index] = result
                state.retries += more
                state.done += 1
                return state.done
            }
        }

        var outcome: ([ExportResult?], Int) { state.withLock { ($0.results, $0.retries) } }
    }
}

/// Messages passed as the bytes they are: the bodies are encoded before the clock starts.
struct RawBytes: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Data) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Data {
        serializedMessageBytes.withUnsafeBytes { Data($0) }
    }
}

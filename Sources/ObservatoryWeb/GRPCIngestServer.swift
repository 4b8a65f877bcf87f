import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import ServiceLifecycle

/// The OTLP/gRPC listener (`OBSERVABILITY_GRPC_PORT`) as a service of the application, so it
/// starts after the startup checks and stops before the span writer drains: on SIGTERM it
/// stops accepting calls and finishes those in flight, each answered after its commit.
///
/// Plaintext HTTP/2 (h2c), as OTLP exporters speak to a local collector; requests may be
/// compressed with gzip or deflate. A request message larger than `maxMessageBytes`, before
/// or after decompression, is refused by the transport with RESOURCE_EXHAUSTED before any
/// of it is decoded.
struct GRPCIngestServer: Service {
    let host: String
    let port: Int
    let maxMessageBytes: Int
    let service: OTLPGRPCService
    let logger: Logger

    func run() async throws {
        let address = try Self.socketAddress(host: host, port: port)
        let transport = HTTP2ServerTransport.Posix(
            address: address, transportSecurity: .plaintext,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = maxMessageBytes
                config.compression.enabledAlgorithms = [.gzip, .deflate]
            })
        let server = GRPCServer(transport: transport, services: [service])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                if let bound = try await server.listeningAddress {
                    logger.info("OTLP/gRPC listening", metadata: ["address": "\(bound)"])
                }
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }

    /// `OBSERVABILITY_HOST` as the transport's address: a name is resolved the way the HTTP
    /// server resolves it.
    static func socketAddress(host: String, port: Int) throws -> GRPCNIOTransportCore.SocketAddress {
        let resolved = try NIOCore.SocketAddress.makeAddressResolvingHost(host, port: port)
        switch resolved {
        case .v6: return .ipv6(host: resolved.ipAddress ?? host, port: port)
        default: return .ipv4(host: resolved.ipAddress ?? host, port: port)
        }
    }
}

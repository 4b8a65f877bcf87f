import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basic one plus the client's
/// address, which the tracing middleware records on HTTP spans (`client.address`).
public struct ObservatoryRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

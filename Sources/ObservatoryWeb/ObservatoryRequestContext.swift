import Hummingbird
import NIOCore
import ObservatoryStore

/// The request context of every route: Hummingbird's basic one plus the client's
/// address, which the tracing middleware records on HTTP spans (`client.address`), and
/// the read replica's status on the routes that read from one.
public struct ObservatoryRequestContext: RequestContext, RemoteAddressRequestContext, ReplicaStatusRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var replica: ReplicaStatus?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

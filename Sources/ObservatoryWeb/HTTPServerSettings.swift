import NIOCore

/// What the HTTP server allows a client connection: how long it may idle or take to send
/// a body, how many may be open at once, and which `Host` names are answered. Without
/// these, idle, slowloris and half-sent connections stay open forever and a few hundred
/// of them exhaust the process's file descriptors. `buildApplication` fills it from the
/// configuration; nil turns a limit off.
public struct HTTPServerSettings: Sendable {
    /// `OBSERVABILITY_HTTP_IDLE_TIMEOUT`: a connection without a complete request head
    /// (or whose body stops arriving) for this long is closed.
    public var idleTimeout: Duration?
    /// `OBSERVABILITY_HTTP_BODY_TIMEOUT`: a request body must arrive in full within this.
    public var bodyTimeout: Duration?
    /// `OBSERVABILITY_HTTP_MAX_CONNECTIONS`: beyond this many open connections, new ones
    /// wait in the listen queue until one closes.
    public var maxConnections: Int?
    /// `OBSERVABILITY_ALLOWED_HOSTS`: empty answers every host.
    public var allowedHosts: [String]

    public init(
        idleTimeout: Duration? = nil, bodyTimeout: Duration? = nil, maxConnections: Int? = nil, allowedHosts: [String] = []
    ) {
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections
        self.allowedHosts = allowedHosts
    }
}

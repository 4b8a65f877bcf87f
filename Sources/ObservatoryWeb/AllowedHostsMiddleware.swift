import HTTPTypes
import Hummingbird
import ObservatoryConfiguration

/// Answers 421 to a request whose `Host` is not one of `OBSERVABILITY_ALLOWED_HOSTS`.
///
/// A page on another site can make a victim's browser resolve its own name to the
/// observatory's address (DNS rebinding) and then read the dashboards as same-origin;
/// such a request still carries the attacker's host name, which this refuses. Health
/// probes answer any host, since orchestrators address them by IP. Runs before tracing,
/// so a refused request leaves no span.
struct AllowedHostsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Exact names (lowercase, IPv6 in brackets) and, for entries starting with `.`,
    /// suffixes that match subdomains.
    let exact: Set<String>
    let suffixes: [String]
    /// Paths served whatever the host.
    static var anyHostPaths: Set<String> { ["/healthz", "/readyz"] }

    init(hosts: [String]) {
        exact = Set(hosts.filter { !$0.hasPrefix(".") } + hosts.filter { $0.hasPrefix(".") }.map { String($0.dropFirst()) })
        suffixes = hosts.filter { $0.hasPrefix(".") }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard Self.anyHostPaths.contains(request.uri.path) || allows(authority: request.head.authority) else {
            return Response(
                status: .misdirectedRequest,
                headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        string:
                            "421 Misdirected Request: this server does not answer for the host in the Host header (\(ObservatoryConfiguration.key(for: \.allowedHosts))).\n"
                    )))
        }
        return try await next(request, context)
    }

    /// Whether the host of a `Host` value (`name`, `name:port`, `[v6]:port`) is allowed.
    func allows(authority: String?) -> Bool {
        guard let host = Self.host(of: authority) else { return false }
        return exact.contains(host) || suffixes.contains { host.hasSuffix($0) }
    }

    /// The host part of a `Host` value, lowercased, without port or trailing dot.
    static func host(of authority: String?) -> String? {
        guard var value = authority?.lowercased(), !value.isEmpty else { return nil }
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return nil }
            value = String(value[...close])
        } else if let colon = value.firstIndex(of: ":") {
            value = String(value[..<colon])
        }
        if value.hasSuffix("."), value.count > 1 { value.removeLast() }
        return value.isEmpty ? nil : value
    }
}

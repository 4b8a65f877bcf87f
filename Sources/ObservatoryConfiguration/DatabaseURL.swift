import Foundation

/// A PostgreSQL connection URL taken apart, so that a mistake in it is reported at
/// startup with the part that is wrong rather than as a connection failure later.
///
/// Accepts `postgres://` and `postgresql://` URLs; `?sslmode=disable|prefer|require`
/// (default `prefer`) and `?host=/path/to/socket/dir` for a Unix socket.
public struct DatabaseURL: Sendable, Equatable {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public struct ParseError: Error, Equatable {
        public var reason: String
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// The Unix socket file when the URL names a socket directory with `?host=/dir`.
    public var unixSocketPath: String?

    public init(parsing text: String) throws(ParseError) {
        guard let components = URLComponents(string: text) else {
            throw ParseError(reason: "it does not parse as a URL")
        }
        guard let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw ParseError(reason: "the scheme must be postgres:// or postgresql://")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw ParseError(reason: "the port must be from 1 to 65535") }
        user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.removingPercentEncoding ?? path
        if database.isEmpty { database = user }
        guard let mode = TLSMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw ParseError(reason: "sslmode must be disable, prefer or require, got \"\(query["sslmode"] ?? "")\"")
        }
        tls = mode
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            host = socketDirectory
            unixSocketPath = "\(socketDirectory)/.s.PGSQL.\(port)"
        } else {
            guard let name = components.host, !name.isEmpty else {
                throw ParseError(reason: "it names no host")
            }
            host = name
            unixSocketPath = nil
        }
    }

    /// The URL with the password hidden, for logs and messages.
    public var redactedDescription: String {
        let credentials = password == nil ? user : "\(user):***"
        let location =
            unixSocketPath.map { "localhost/\(database)?host=\(($0 as NSString).deletingLastPathComponent)" }
            ?? "\(host):\(port)/\(database)"
        return "postgres://\(credentials)@\(location)"
    }
}

/// One MCP client connected to the gateway: its session id, address, client
/// software and credentials stay the same across its requests, so sessions can
/// be followed in the UI and headers repeat the way they do in real traffic.
struct DemoSession: Sendable {
    let id: String
    let clientAddress: String
    let userAgent: String
    let authorization: String
    let cookie: String
    private(set) var nextRequestID = 1

    static let userAgents = [
        "claude-desktop/0.10.38 (darwin; arm64)",
        "cursor/1.2.4 mcp-client/1.0",
        "python-httpx/0.27.2 mcp/1.9.4",
        "node-fetch/1.0 @modelcontextprotocol/sdk/1.13.0",
        "vscode-copilot/1.338.0",
    ]

    init(_ rng: inout SplitMix64) {
        id = "\(rng.hex(8))-\(rng.hex(4))-4\(rng.hex(3))-a\(rng.hex(3))-\(rng.hex(12))"
        clientAddress = "10.\(rng.int(in: 0...31)).\(rng.int(in: 0...255)).\(rng.int(in: 2...254))"
        userAgent = rng.pick(Self.userAgents)
        authorization = "Bearer sk-live-\(rng.hex(32))"
        cookie =
            "mcp_session=\(rng.hex(24)); _ga=GA1.2.\(rng.int(in: 100_000_000...999_999_999)).1718\(rng.int(in: 100_000...999_999)); csrftoken=\(rng.hex(32))"
    }

    /// The next JSON-RPC request id on this session.
    mutating func takeRequestID() -> String {
        defer { nextRequestID += 1 }
        return String(nextRequestID)
    }
}

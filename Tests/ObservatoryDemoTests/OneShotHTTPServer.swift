import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loopback HTTP server that answers exactly one request with a canned
/// response and keeps what it received, so sender tests need no dependencies.
final class OneShotHTTPServer: @unchecked Sendable {
    struct Received {
        let head: String
        let body: Data

        func header(_ name: String) -> String? {
            head.split(separator: "\r\n").dropFirst().first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                .map { String($0.drop { $0 != ":" }.dropFirst()).trimmingCharacters(in: .whitespaces) }
        }
    }

    let port: UInt16
    private let listener: Int32
    private let response: Data
    private let lock = NSLock()
    private var received: Received?
    private var requestCount = 0

    init(status: String, headers: [String] = [], body: Data = Data()) throws {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        var head = "HTTP/1.1 \(status)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        response = Data((head + "\r\n").utf8) + body
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    deinit {
        close(listener)
    }

    var url: URL {
        URL(string: "http://127.0.0.1:\(port)/v1/traces")!
    }

    /// The request, once it has been answered.
    var request: Received? {
        lock.withLock { received }
    }

    /// How many connections were accepted (the server answers only the first).
    var connections: Int {
        lock.withLock { requestCount }
    }

    private func serve() {
        while true {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 10_000) > 0 else { return }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            let isFirst = lock.withLock {
                requestCount += 1
                return requestCount == 1
            }
            if isFirst { answer(connection) }
            close(connection)
        }
    }

    private func answer(_ connection: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var sentContinue = false
        while true {
            if let end = buffer.firstRange(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                let partial = Received(head: head, body: Data())
                if partial.header("Expect")?.lowercased() == "100-continue", !sentContinue {
                    sentContinue = true
                    let reply = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
                    _ = reply.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, 0) }
                }
                let expected = Int(partial.header("Content-Length") ?? "0") ?? 0
                let body = buffer[end.upperBound...]
                if body.count >= expected {
                    lock.withLock { received = Received(head: head, body: Data(body.prefix(expected))) }
                    break
                }
            }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            buffer.append(contentsOf: chunk[0..<count])
        }
        _ = response.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, 0) }
    }
}

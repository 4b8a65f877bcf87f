import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A deliberately minimal HTTP/1.1 client for the benchmarks: blocking sockets, one
/// keep-alive connection per thread, pre-encoded bodies. The benchmarks run on the same
/// two cores as the server and PostgreSQL, so its own cost must be close to nothing;
/// URLSession spent more CPU posting the bodies than the server spent ingesting them.
final class RawHTTPClient: @unchecked Sendable {
    struct Result {
        var status: Int
        var retryAfter: Int?
        var seconds: Double
        /// The `dur` of the answer's `Server-Timing` header, in milliseconds.
        var serverMilliseconds: Double? = nil
    }

    private let host: String
    private let port: UInt16
    private let path: String
    private let token: String?

    init?(url: URL, token: String?) {
        guard let host = url.host, let port = url.port ?? (url.scheme == "http" ? 80 : nil) else { return nil }
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = UInt16(port)
        self.path = url.path.isEmpty ? "/" : url.path
        self.token = token
    }

    /// Posts every body once with `connections` threads, retrying 429/503 after their
    /// Retry-After; returns one result per body (the last attempt) and the retry count.
    func postAll(_ bodies: [Data], connections: Int, progress: @escaping @Sendable (Int) -> Void) -> ([Result?], Int) {
        let shared = Shared(count: bodies.count)
        onThreads(connections) { socket in
            while true {
                let index = shared.takeNext()
                guard index < bodies.count else { break }
                let started = Date()
                var attempts = 0
                var result = Result(status: 0, retryAfter: nil, seconds: 0)
                while attempts < 30 {
                    attempts += 1
                    if socket < 0 { socket = self.connect() }
                    if socket >= 0, let answer = self.post(bodies[index], on: socket) {
                        result = answer
                        if answer.status == 429 || answer.status == 503 {
                            usleep(UInt32(1_000_000 * min(answer.retryAfter ?? 1, 5)))
                            continue
                        }
                        break
                    }
                    if socket >= 0 { close(socket) }
                    socket = -1
                    usleep(200_000)
                }
                result.seconds = Date().timeIntervalSince(started)
                progress(shared.record(result, at: index, retries: attempts - 1))
            }
        }
        return shared.outcome
    }

    /// GETs `path` `count` times over `connections` keep-alive connections, as fast as the
    /// answers come; returns how many answers were 2xx. For throughput, not latency.
    func getRepeatedly(_ path: String, count: Int, connections: Int, authorization: String? = nil) -> Int {
        let shared = Shared(count: count)
        onThreads(connections) { socket in
            while shared.takeNext() < count {
                if socket < 0 { socket = self.connect() }
                let result = socket >= 0 ? self.exchange("GET", path, body: nil, authorization: authorization, on: socket) : nil
                if result == nil, socket >= 0 {
                    close(socket)
                    socket = -1
                }
                if let result, (200..<300).contains(result.status) { _ = shared.record(result, at: 0, retries: 0) }
            }
        }
        return shared.completed
    }

    /// Runs `body` on `count` threads at once, each with its own connection slot (-1 until
    /// `body` connects), closed afterwards; returns when every thread has finished.
    private func onThreads(_ count: Int, _ body: @escaping @Sendable (inout Int32) -> Void) {
        let group = DispatchGroup()
        for _ in 0..<count {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var socket: Int32 = -1
                body(&socket)
                if socket >= 0 { close(socket) }
            }
        }
        group.wait()
    }

    /// What the threads share, behind one lock.
    private final class Shared: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        private var done = 0
        private var retries = 0
        private var results: [Result?]

        init(count: Int) { results = Array(repeating: nil, count: count) }

        func takeNext() -> Int {
            lock.withLock {
                defer { next += 1 }
                return next
            }
        }

        /// Stores a result and returns how many are done.
        func record(_ result: Result, at index: Int, retries more: Int) -> Int {
            lock.withLock {
                results[index] = result
                retries += more
                done += 1
                return done
            }
        }

        var outcome: ([Result?], Int) { lock.withLock { (results, retries) } }

        var completed: Int { lock.withLock { done } }
    }

    private func connect() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if connected != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    /// GETs each path in turn on one keep-alive connection, timing each; nil for a path
    /// whose connection failed.
    func getSequentially(_ paths: [String], authorization: String? = nil) -> [Result?] {
        var socket = connect()
        var results: [Result?] = []
        for path in paths {
            if socket < 0 { socket = connect() }
            let started = Date()
            var result = socket >= 0 ? exchange("GET", path, body: nil, authorization: authorization, on: socket) : nil
            result?.seconds = Date().timeIntervalSince(started)
            if result == nil, socket >= 0 {
                close(socket)
                socket = -1
            }
            results.append(result)
        }
        if socket >= 0 { close(socket) }
        return results
    }

    /// One protobuf export and its answer on an open connection; nil when the connection failed.
    private func post(_ body: Data, on fd: Int32) -> Result? {
        exchange("POST", path, body: body, authorization: token.map { "Bearer \($0)" }, on: fd)
    }

    /// One request and its answer on an open connection; nil when the connection failed.
    private func exchange(_ method: String, _ path: String, body: Data?, authorization: String?, on fd: Int32) -> Result? {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        if let body { head += "Content-Type: application/x-protobuf\r\nContent-Length: \(body.count)\r\n" }
        if let authorization { head += "Authorization: \(authorization)\r\n" }
        head += "\r\n"
        guard sendAll(Data(head.utf8), on: fd), body.map({ sendAll($0, on: fd) }) ?? true else { return nil }

        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var headerEnd: Int?
        while headerEnd == nil {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            received.append(contentsOf: buffer[0..<count])
            headerEnd = Self.endOfHeaders(received)
        }
        guard let end = headerEnd, let header = String(bytes: received[0..<end], encoding: .utf8) else { return nil }
        let lines = header.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
            let status = Int(statusLine.split(separator: " ")[1])
        else { return nil }
        var length = 0
        var retryAfter: Int?
        var serverMilliseconds: Double?
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0].lowercased() {
            case "content-length": length = Int(parts[1]) ?? 0
            case "retry-after": retryAfter = Int(parts[1])
            case "server-timing":
                serverMilliseconds = parts[1].split(separator: ";").first { $0.hasPrefix("dur=") }.flatMap {
                    Double($0.dropFirst(4))
                }
            default: break
            }
        }
        var bodyBytes = received.count - (end + 4)
        while bodyBytes < length {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            bodyBytes += count
        }
        return Result(status: status, retryAfter: retryAfter, seconds: 0, serverMilliseconds: serverMilliseconds)
    }

    private func sendAll(_ data: Data, on fd: Int32) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    private static func endOfHeaders(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}

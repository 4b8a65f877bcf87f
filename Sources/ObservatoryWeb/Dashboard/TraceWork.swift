import Dispatch

/// Runs the CPU-heavy part of one trace view (the layout, the JSON answer, the page) on
/// threads of its own rather than on Swift's shared cooperative pool, which has one thread
/// per core and also serves `/healthz`, ingestion and every other request. Three views of
/// a 20,000-span trace computed on that pool held `/healthz` for seconds; here the
/// operating system shares the cores between them and everything else. The queue runs at
/// most as many views at once as there are cores; more wait their turn, suspended.
enum TraceWork {
    private static let queue = DispatchQueue(label: "observatory.trace-views", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

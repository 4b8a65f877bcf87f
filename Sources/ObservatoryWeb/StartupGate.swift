import ServiceLifecycle

/// Opens once the startup checks have passed. Maintenance and the OTLP/gRPC listener wait
/// behind it, so no job touches, and no gRPC call is accepted for, a database whose schema
/// is behind this build or that cannot be reached.
final class StartupGate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream()
    }

    func open() {
        continuation.yield()
        continuation.finish()
    }

    /// True once the gate opens; false when the waiting task is cancelled first. One waiter.
    func wait() async -> Bool {
        for await _ in stream { return true }
        return false
    }
}

/// Runs `services` side by side once `gate` opens; returns without running them when the
/// application shuts down before that.
struct AfterStartup: Service {
    let gate: StartupGate
    let services: [any Service]

    func run() async throws {
        guard await cancelWhenGracefulShutdown({ await gate.wait() }) else { return }
        try await withThrowingDiscardingTaskGroup { group in
            for service in services {
                group.addTask { try await service.run() }
            }
        }
    }
}

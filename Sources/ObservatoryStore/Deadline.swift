import Synchronization

/// Runs an operation against a deadline without waiting for the operation to notice its
/// cancellation. A task group would wait for its cancelled child, and a connection attempt
/// to a database that is gone may not answer cancellation for a minute; here the caller
/// gets `expired` at the deadline and the operation is cancelled and left to end in the
/// background.
public enum Deadline {
    public static func run<Value: Sendable>(
        within timeout: Duration, expired: @autoclosure @escaping @Sendable () -> any Error,
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let outcome = FirstOutcome(continuation)
            let work = Task {
                do {
                    outcome.resume(with: .success(try await operation()))
                } catch {
                    outcome.resume(with: .failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if outcome.resume(with: .failure(expired())) {
                    work.cancel()
                }
            }
        }
    }
}

/// Resumes a continuation with the first of several outcomes and ignores the rest.
private final class FirstOutcome<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, any Error>?>

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = Mutex(continuation)
    }

    /// Whether this outcome was the first.
    @discardableResult
    func resume(with result: Result<Value, any Error>) -> Bool {
        guard
            let continuation = continuation.withLock({ value in
                defer { value = nil }
                return value
            })
        else {
            return false
        }
        continuation.resume(with: result)
        return true
    }
}

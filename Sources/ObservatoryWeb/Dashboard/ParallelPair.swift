import Dispatch

/// Two independent computations run at the same time on threads of Dispatch's pool, for
/// work that is already off Swift's cooperative pool (see `TraceWork`): the caller's
/// thread waits for both, and gets both answers.
struct ParallelPair<First: Sendable, Second: Sendable>: Sendable {
    let first: First
    let second: Second

    init(_ first: @Sendable () -> First, _ second: @Sendable () -> Second) {
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 { results.first = first() } else { results.second = second() }
        }
        // concurrentPerform returns once both iterations have; each wrote its own slot.
        self.first = results.first!
        self.second = results.second!
    }

    /// Each slot written by one iteration only and read after both have ended.
    private final class Results: @unchecked Sendable {
        var first: First?
        var second: Second?
    }
}

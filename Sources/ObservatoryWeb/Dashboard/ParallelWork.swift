import Dispatch

/// Independent computations run at the same time on threads of Dispatch's pool, for work
/// that is already off Swift's cooperative pool (see `TraceWork`): the caller's thread
/// waits for all of them and gets their answers in order.
enum ParallelWork {
    static func all<T: Sendable>(_ work: [@Sendable () -> T]) -> [T] {
        let results = Results<T>(count: work.count)
        DispatchQueue.concurrentPerform(iterations: work.count) { index in results.slots[index] = work[index]() }
        // concurrentPerform returns once every iteration has; each wrote its own slot.
        return results.slots.map { $0! }
    }

    /// One slot per computation, each written by its own iteration only (through the
    /// array's storage, which is allocated up front and never grows) and read after all
    /// of them have ended.
    private final class Results<T>: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<T?>

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }

        deinit {
            slots.deinitialize()
            slots.deallocate()
        }
    }
}

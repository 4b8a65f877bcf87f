import Foundation

/// A trace's first start and last end, as its summary read them back through `Date`,
/// widened by a millisecond either side for reads bounded by them: `Date` rounds
/// PostgreSQL's microseconds, and bounds compared as read could leave out a row that
/// starts at the trace's first microsecond.
enum TraceBounds {
    static func padded(from: Date, through: Date) -> (lower: Date, upper: Date) {
        (from.addingTimeInterval(-0.001), through.addingTimeInterval(0.001))
    }
}

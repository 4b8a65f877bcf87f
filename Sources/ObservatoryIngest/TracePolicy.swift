import Foundation
import ObservatoryStore
import Synchronization

/// Keeps or drops whole traces: `OBSERVABILITY_SAMPLE_RATE` and `OBSERVABILITY_EXCLUDE_PATHS`.
public final class TracePolicy: Sendable {
    public let sampleRate: Double
    private let excludePatterns: [UncheckedRegex]
    /// Traces dropped for an excluded path, remembered so that spans of the same trace
    /// arriving in a later export are dropped too. Bounded: the oldest are forgotten first.
    private let excludedTraces = Mutex(RecentSet(capacity: 100_000))

    /// `excludePaths` must already be valid patterns (the configuration checks them).
    public init(sampleRate: Double, excludePaths: [String]) {
        self.sampleRate = sampleRate
        // Wrapped so the pattern must match the whole path, whatever alternations or lazy
        // quantifiers it contains.
        self.excludePatterns = excludePaths.compactMap { try? UncheckedRegex(NSRegularExpression(pattern: "^(?:\($0))$")) }
    }

    /// Whether a trace is sampled in. A pure function of the trace id, so every span of a
    /// trace gets the same answer in every export, on every replica. The id's bits are
    /// mixed first, so ids that are not random (counters, test fixtures) still spread.
    public static func samples(_ traceID: TraceID, rate: Double) -> Bool {
        if rate >= 1 { return true }
        if rate <= 0 { return false }
        var x = traceID.high ^ (traceID.low &* 0x9E37_79B9_7F4A_7C15)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return Double(x >> 11) / Double(1 << 53) < rate
    }

    public func samples(_ traceID: TraceID) -> Bool {
        Self.samples(traceID, rate: sampleRate)
    }

    /// Whether an HTTP server span's path matches an exclusion pattern as a whole.
    public func excludes(path: String) -> Bool {
        let range = NSRange(path.startIndex..., in: path)
        return excludePatterns.contains { $0.regex.firstMatch(in: path, range: range) != nil }
    }

    /// Whether any path is excluded. Without patterns no trace is ever excluded, and the
    /// pipeline skips the path check and the lookups of excluded traces for every span.
    var excludesAnyPath: Bool { !excludePatterns.isEmpty }

    func rememberExcluded(_ traceID: TraceID) {
        excludedTraces.withLock { $0.insert(traceID) }
    }

    func wasExcluded(_ traceID: TraceID) -> Bool {
        excludedTraces.withLock { $0.contains(traceID) }
    }
}

/// NSRegularExpression is immutable and documented thread-safe, but not marked Sendable.
private struct UncheckedRegex: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }
}

/// A set that forgets its oldest members beyond a capacity.
struct RecentSet {
    let capacity: Int
    private var members: Set<TraceID> = []
    private var order: [TraceID] = []
    private var oldest = 0

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ id: TraceID) -> Bool { members.contains(id) }

    mutating func insert(_ id: TraceID) {
        guard members.insert(id).inserted else { return }
        if order.count < capacity {
            order.append(id)
        } else {
            members.remove(order[oldest])
            order[oldest] = id
            oldest = (oldest + 1) % capacity
        }
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Shows how far a long `demo` or `bench` run has got. It draws on stderr only
/// when stderr is a terminal, so logs and pipes get a single summary line from
/// `finish()` instead of carriage-return noise.
public struct ProgressBar: Sendable {
    public let total: Int
    public let label: String
    /// The last count passed to `update`, clamped to `0...total`.
    public private(set) var done = 0
    private let isTerminal: Bool
    private let write: @Sendable (String) -> Void
    private let started: ContinuousClock.Instant
    private var lastDrawn: ContinuousClock.Instant?

    static let width = 30
    static let redrawInterval = Duration.milliseconds(100)

    public init(total: Int, label: String) {
        self.init(total: total, label: label, isTerminal: isatty(2) == 1) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// For tests: where the text goes and whether to behave as on a terminal.
    init(total: Int, label: String, isTerminal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.total = max(total, 0)
        self.label = label
        self.isTerminal = isTerminal
        self.write = write
        started = .now
    }

    /// Records progress; redraws at most ten times a second, and always at the end.
    public mutating func update(_ done: Int) {
        self.done = min(max(done, 0), total)
        guard isTerminal else { return }
        let now = ContinuousClock.now
        if let lastDrawn, now - lastDrawn < Self.redrawInterval, self.done < total { return }
        lastDrawn = now
        write("\r" + Self.bar(label: label, done: self.done, total: total, seconds: seconds(until: now)))
    }

    /// Prints the summary line, replacing the bar on a terminal.
    public func finish() {
        let line = Self.summary(label: label, done: done, total: total, seconds: seconds(until: .now))
        write((isTerminal ? "\r\u{1B}[2K" : "") + line + "\n")
    }

    private func seconds(until now: ContinuousClock.Instant) -> Double {
        let elapsed = (now - started).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }

    static func bar(label: String, done: Int, total: Int, seconds: Double) -> String {
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let percent = Int((fraction * 100).rounded(.down))
        return "\(label) [\(bar)] \(percent)% \(done)/\(total) \(rate(done: done, seconds: seconds))"
    }

    static func summary(label: String, done: Int, total: Int, seconds: Double) -> String {
        "\(label): \(done)/\(total) in \(String(format: "%.1f", seconds)) s (\(rate(done: done, seconds: seconds)))"
    }

    static func rate(done: Int, seconds: Double) -> String {
        guard seconds > 0 else { return "-/s" }
        let perSecond = Double(done) / seconds
        return perSecond < 10 ? String(format: "%.1f/s", perSecond) : String(format: "%.0f/s", perSecond)
    }
}

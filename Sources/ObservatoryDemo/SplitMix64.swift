import Foundation

/// A tiny seeded generator (Vigna's SplitMix64) so demo traffic is reproducible
/// byte for byte on every platform; system randomness would make tests and
/// benchmark runs incomparable. Public for the fuzz tests, which replay the same way.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// Our own draws rather than the standard library's `random(in:using:)`, whose
// algorithm may change between Swift releases.
extension SplitMix64 {
    /// Uniform in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }

    /// Uniform in `range`; the modulo bias is far below anything a demo can show.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    mutating func pick<Element>(_ items: [Element]) -> Element {
        items[int(in: 0...(items.count - 1))]
    }

    /// An element drawn with probability proportional to `weight`.
    mutating func pick<Element>(_ items: [Element], weight: (Element) -> Double) -> Element {
        let total = items.reduce(0) { $0 + weight($1) }
        var remaining = unit() * total
        for item in items {
            remaining -= weight(item)
            if remaining < 0 { return item }
        }
        return items[items.count - 1]
    }

    /// Standard normal, by Box–Muller.
    mutating func normal() -> Double {
        let u1 = 1 - unit()  // (0, 1], so the logarithm is finite
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Log-normal with the given median; `sigma` is the spread of the logarithm.
    mutating func logNormal(median: Double, sigma: Double) -> Double {
        median * exp(sigma * normal())
    }

    /// `count` random bytes, never all zero (OTLP treats zero ids as invalid).
    mutating func nonZeroBytes(_ count: Int) -> Data {
        while true {
            var bytes = [UInt8]()
            bytes.reserveCapacity(count)
            while bytes.count < count {
                var word = next()
                for _ in 0..<min(8, count - bytes.count) {
                    bytes.append(UInt8(truncatingIfNeeded: word))
                    word >>= 8
                }
            }
            if bytes.contains(where: { $0 != 0 }) { return Data(bytes) }
        }
    }

    /// `count` lowercase hexadecimal digits.
    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int(next() & 0xF)] })
    }
}

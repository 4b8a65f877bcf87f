import XCTest

@testable import ObservatoryDemo

final class SplitMix64Tests: XCTestCase {
    /// The reference outputs of Vigna's splitmix64.c for seed 1234567.
    func testMatchesReferenceSequence() {
        var rng = SplitMix64(seed: 1_234_567)
        let expected: [UInt64] = [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423]
        XCTAssertEqual((0..<3).map { _ in rng.next() }, expected)
    }

    func testNonZeroBytesHaveTheRequestedLength() {
        var rng = SplitMix64(seed: 0)
        for count in [1, 8, 16] {
            let bytes = rng.nonZeroBytes(count)
            XCTAssertEqual(bytes.count, count)
            XCTAssertTrue(bytes.contains { $0 != 0 })
        }
    }

    func testUnitStaysInRange() {
        var rng = SplitMix64(seed: 9)
        for _ in 0..<10_000 {
            let value = rng.unit()
            XCTAssertTrue(value >= 0 && value < 1)
        }
    }
}

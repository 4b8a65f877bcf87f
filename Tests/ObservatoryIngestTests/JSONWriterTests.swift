import Foundation
import ObservatoryDemo
import XCTest

@testable import ObservatoryIngest

final class JSONWriterTests: XCTestCase {
    func testOutputIsValidJSONWithEveryValueKind() throws {
        var writer = JSONWriter()
        writer.writeObject([
            Attribute(key: "s", value: .string("quote\" backslash\\ tab\t ctrl\u{1} é 😀")),
            Attribute(key: "i", value: .int(Int64.min)),
            Attribute(key: "d", value: .double(0.1)),
            Attribute(key: "nan", value: .double(.nan)),
            Attribute(key: "b", value: .bool(false)),
            Attribute(key: "raw", value: .bytes([0xFF, 0x00, 0x10, 0x20])),
            Attribute(key: "a", value: .array([.int(1), .map([Attribute(key: "k", value: .string("v"))])])),
        ])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        XCTAssertEqual(object["s"] as? String, "quote\" backslash\\ tab\t ctrl\u{1} é 😀")
        XCTAssertEqual((object["i"] as? NSNumber)?.int64Value, Int64.min)
        XCTAssertEqual(object["d"] as? Double, 0.1)
        XCTAssertEqual(object["nan"] as? String, "NaN")
        XCTAssertEqual(object["b"] as? Bool, false)
        XCTAssertEqual(object["raw"] as? String, Data([0xFF, 0x00, 0x10, 0x20]).base64EncodedString())
        XCTAssertEqual(((object["a"] as? [Any])?[1] as? [String: String])?["k"], "v")
    }

    /// The word-at-a-time check finds each byte that needs an escape, wherever it stands in
    /// the word and whatever bytes surround it, and nothing else.
    func testWordCheckFindsExactlyTheBytesThatNeedAnEscape() {
        func byteByByte(_ word: UInt64) -> Bool {
            (0..<8).contains { shift in
                let byte = UInt8(truncatingIfNeeded: word >> (8 * UInt64(shift)))
                return byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
            }
        }
        for filler: UInt8 in [0x61, 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF] {
            for byte in 0...255 {
                for position in 0..<8 {
                    var word = UInt64(filler) &* 0x0101_0101_0101_0101
                    word &= ~(0xFF << (8 * UInt64(position)))
                    word |= UInt64(byte) << (8 * UInt64(position))
                    XCTAssertEqual(JSONWriter.needsEscape(word), byteByByte(word), "byte \(byte) at \(position) in \(filler)")
                }
            }
        }
        var random = SplitMix64(seed: 5)
        for _ in 0..<100_000 {
            let word = random.next()
            XCTAssertEqual(JSONWriter.needsEscape(word), byteByByte(word), String(word, radix: 16))
        }
    }

    /// Strings of every length up to 40 with an escaped character at every position read
    /// back as written: the words passed over and the bytes after them are both copied.
    func testEscapesAtEveryPositionReadBack() throws {
        for length in 0...40 {
            for special in ["\"", "\\", "\n", "\u{1}", "é"] {
                for position in 0...length {
                    let text =
                        String(repeating: "a", count: position) + special + String(repeating: "b", count: length - position)
                    var writer = JSONWriter()
                    writer.writeObject([Attribute(key: text, value: .string(text))])
                    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: String])
                    XCTAssertEqual(object, [text: text])
                }
            }
        }
    }

    func testBase64MatchesFoundation() {
        for length in 0..<20 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) % 256) }
            XCTAssertEqual(Base64.encode(bytes), Data(bytes).base64EncodedString())
        }
    }
}

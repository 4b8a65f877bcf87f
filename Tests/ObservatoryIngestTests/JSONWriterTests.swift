import Foundation
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

    func testBase64MatchesFoundation() {
        for length in 0..<20 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) % 256) }
            XCTAssertEqual(Base64.encode(bytes), Data(bytes).base64EncodedString())
        }
    }
}

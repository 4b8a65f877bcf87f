import Foundation
import XCTest

@testable import ObservatoryWeb

/// `JSONText.string` and `HTMLText.text` copy runs of bytes between escapes; here they are
/// compared with an escape written one character at a time, on strings made of the
/// characters that need one, multi-byte characters (U+2028 and U+2029 among them, and
/// others that share their first bytes) and plain text.
final class TextEscapingTests: XCTestCase {
    static let pieces: [String] = [
        "a", "tool", " ", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "<", ">", "&", "'", "\u{2028}", "\u{2029}",
        "\u{2027}", "\u{202A}", "\u{20AC}", "é", "日本", "🦀", "</script>", "\u{7F}",
    ]

    /// A string of 0 to 12 pieces, chosen by a fixed-seed generator so a failure repeats.
    static func samples(count: Int) -> [String] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        return (0..<count).map { _ in (0..<(next() % 13)).map { _ in pieces[next() % pieces.count] }.joined() }
    }

    static func jsonByCharacter(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x3C, 0x3E, 0x26, 0x2028, 0x2029: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func htmlByCharacter(_ value: String) -> String {
        var out = ""
        for character in value.unicodeScalars {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    func testJSONStringsMatchAnEscapeByCharacter() throws {
        for sample in Self.samples(count: 2_000) + Self.pieces {
            var json = JSONText()
            json.string(sample)
            XCTAssertEqual(json.string, Self.jsonByCharacter(sample), sample.debugDescription)
            let decoded = try JSONSerialization.jsonObject(with: Data(json.bytes), options: .fragmentsAllowed) as? String
            XCTAssertEqual(decoded, sample)
        }
    }

    func testHTMLTextMatchesAnEscapeByCharacter() {
        for sample in Self.samples(count: 2_000) + Self.pieces {
            var html = HTMLText()
            html.text(sample)
            XCTAssertEqual(html.string, Self.htmlByCharacter(sample), sample.debugDescription)
        }
    }
}

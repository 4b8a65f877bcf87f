/// A small JSON writer for the largest answers (a trace of 1,000 spans), where
/// Foundation's JSONEncoder took most of the request's time. Strings are escaped for
/// JSON and, in the same pass, `<`, `>`, `&`, U+2028 and U+2029 become \u escapes, so the
/// output is also safe inside a `<script type="application/json">` element as it stands.
struct JSONText {
    private(set) var bytes: [UInt8] = []
    /// Whether the next value in the current object or array needs a comma before it.
    private var needsComma = false

    init(capacity: Int = 1_024) { bytes.reserveCapacity(capacity) }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member's key; its value follows.
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for scalar in value.unicodeScalars {
            switch scalar.value {
            case 0x22: bytes.append(contentsOf: [92, 34])  // \"
            case 0x5C: bytes.append(contentsOf: [92, 92])  // \\
            case 0x0A: bytes.append(contentsOf: [92, 110])  // \n
            case 0x0D: bytes.append(contentsOf: [92, 114])  // \r
            case 0x09: bytes.append(contentsOf: [92, 116])  // \t
            // Other control characters, the characters that could end a script element
            // or start an entity, and U+2028/2029 (line ends to old JavaScript parsers).
            case 0..<0x20, 0x3C, 0x3E, 0x26, 0x2028, 0x2029: unicodeEscape(UInt16(scalar.value))
            case 0..<0x80: bytes.append(UInt8(scalar.value))
            default: UTF8.encode(scalar) { bytes.append($0) }
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func number(_ value: Double) {
        separate()
        // Durations and offsets are finite; anything else would not be JSON.
        bytes.append(
            contentsOf: (value.isFinite
                ? (value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)) : "null").utf8)
        needsComma = true
    }

    mutating func number(_ value: Int) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    /// Raw JSON that is already valid and escaped, such as another JSONText.
    mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    private mutating func unicodeEscape(_ code: UInt16) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        bytes.append(contentsOf: [
            92, UInt8(ascii: "u"), hex[Int(code >> 12)], hex[Int(code >> 8 & 0xF)], hex[Int(code >> 4 & 0xF)],
            hex[Int(code & 0xF)],
        ])
    }
}

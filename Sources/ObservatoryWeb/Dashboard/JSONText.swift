import Foundation

/// A small JSON writer for the largest answers (a trace of 1,000 spans), where
/// Foundation's JSONEncoder took most of the request's time. Strings are escaped for
/// JSON and, in the same pass, `<`, `>`, `&`, U+2028 and U+2029 become \u escapes, so the
/// output is also safe inside a `<script type="application/json">` element as it stands.
struct JSONText {
    private(set) var bytes: [UInt8] = []
    /// Whether the next value in the current object or array needs a comma before it.
    private var needsComma = false
    /// The last two timestamps written, formatted: every rank of a trace names the same
    /// two hours, and formatting them again for each of 1,000 spans was a twentieth of
    /// the trace page's time.
    private var recentTimestamps: [(date: Date, text: String)] = []

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
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// `utf8` escaped for JSON, copied in runs between the bytes that need an escape (most
    /// strings have none) rather than a character at a time.
    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var run = 0
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            // U+2028 and U+2029 (E2 80 A8, E2 80 A9): line ends to old JavaScript parsers.
            let lineSeparator =
                byte == 0xE2 && index + 2 < utf8.count && utf8[index + 1] == 0x80 && utf8[index + 2] & 0xFE == 0xA8
            // Control characters, quote and backslash, and the characters that could end a
            // script element or start an entity.
            guard
                byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x3C || byte == 0x3E || byte == 0x26
                    || lineSeparator
            else {
                index += 1
                continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
            switch byte {
            case 0x22: bytes.append(contentsOf: [92, 34])  // \"
            case 0x5C: bytes.append(contentsOf: [92, 92])  // \\
            case 0x0A: bytes.append(contentsOf: [92, 110])  // \n
            case 0x0D: bytes.append(contentsOf: [92, 114])  // \r
            case 0x09: bytes.append(contentsOf: [92, 116])  // \t
            case 0xE2: unicodeEscape(utf8[index + 2] == 0xA8 ? 0x2028 : 0x2029)
            default: unicodeEscape(UInt16(byte))
            }
            index += lineSeparator ? 3 : 1
            run = index
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<utf8.count]))
    }

    /// A timestamp as `APIJSON.timestamp` writes it.
    mutating func timestamp(_ date: Date) {
        if let recent = recentTimestamps.first(where: { $0.date == date }) { return string(recent.text) }
        let text = APIJSON.timestamp(date)
        if recentTimestamps.count == 2 { recentTimestamps.removeFirst() }
        recentTimestamps.append((date, text))
        string(text)
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

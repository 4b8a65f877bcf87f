import ObservatoryStore

/// Serializes attributes and events to the JSON stored in the jsonb columns. Written by
/// hand because it runs for every span: no intermediate dictionaries, one byte array.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// `{"key": value, ...}`; nested maps become objects, arrays arrays, bytes base64.
    public mutating func writeObject(_ attributes: [Attribute]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, attribute) in attributes.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            writeString(attribute.key)
            bytes.append(UInt8(ascii: ":"))
            writeValue(attribute.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// `[{"name": ..., "time": "RFC 3339", "attributes": {...}}, ...]`.
    public mutating func writeEvents(_ events: [EventInput]) {
        bytes.append(UInt8(ascii: "["))
        for (index, event) in events.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: #"{"name":"#.utf8)
            writeString(event.name)
            bytes.append(contentsOf: #","time":""#.utf8)
            UnixTime.write(unixNano: event.timeUnixNano, style: .rfc3339, into: &bytes)
            bytes.append(contentsOf: #"","attributes":"#.utf8)
            writeObject(event.attributes)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func writeValue(_ value: AttributeValue) {
        switch value {
        case .string(let text):
            writeString(text)
        case .bool(let flag):
            bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number):
            bytes.append(contentsOf: String(number).utf8)
        case .double(let number):
            if number.isFinite {
                bytes.append(contentsOf: String(number).utf8)
            } else {
                writeString(number.isNaN ? "NaN" : (number > 0 ? "Infinity" : "-Infinity"))
            }
        case .bytes(let data):
            writeString(Base64.encode(data))
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeValue(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .map(let entries):
            writeObject(entries)
        }
    }

    /// A JSON string. Control characters are escaped; U+0000, which jsonb refuses, never
    /// gets here (the redactor replaces it). Runs of bytes that need no escape are copied
    /// in one go.
    mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Whole words of eight bytes that need no escape are passed over first.
            var clean = 0
            while clean + 8 <= utf8.count,
                !Self.needsEscape(UnsafeRawBufferPointer(utf8).loadUnaligned(fromByteOffset: clean, as: UInt64.self))
            {
                clean += 8
            }
            var start = 0
            for index in clean..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Whether any of the eight bytes of `word` is below 0x20, `"` or `\`: the tests for a
    /// zero byte and a byte less than n that read a word at a time (exact about whether
    /// there is one, which is all that is asked).
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- 0x20 &* ones) & ~word & highs
        let quote = word ^ (UInt64(UInt8(ascii: "\"")) &* ones)
        let backslash = word ^ (UInt64(UInt8(ascii: "\\")) &* ones)
        return (control | ((quote &- ones) & ~quote & highs) | ((backslash &- ones) & ~backslash & highs)) != 0
    }
}

/// Standard base64 (RFC 4648 with padding), for bytes attribute values.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var index = 0
        while index + 2 < data.count {
            let chunk = UInt32(data[index]) << 16 | UInt32(data[index + 1]) << 8 | UInt32(data[index + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
            index += 3
        }
        let rest = data.count - index
        if rest > 0 {
            let chunk = UInt32(data[index]) << 16 | (rest == 2 ? UInt32(data[index + 1]) << 8 : 0)
            out.append(alphabet[Int(chunk >> 18 & 0x3F)])
            out.append(alphabet[Int(chunk >> 12 & 0x3F)])
            out.append(rest == 2 ? alphabet[Int(chunk >> 6 & 0x3F)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// HTML built in Swift where a template would be too slow (the span table of a
/// 1,000-span trace: swift-mustache spent a quarter of a second on it). Every piece of
/// data goes through `text(_:)` or `attribute(_:)`, which escape it; markup is only ever
/// appended from literals in this module.
struct HTMLText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Appends literal markup written in this module, never data.
    mutating func markup(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends data as text content: `<`, `>`, `&`, `"` and `'` escaped, so it can
    /// neither open an element nor leave an attribute value.
    mutating func text(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "<"): bytes.append(contentsOf: [38, 108, 116, 59])  // &lt;
            case UInt8(ascii: ">"): bytes.append(contentsOf: [38, 103, 116, 59])  // &gt;
            case UInt8(ascii: "&"): bytes.append(contentsOf: [38, 97, 109, 112, 59])  // &amp;
            case UInt8(ascii: "\""): bytes.append(contentsOf: [38, 113, 117, 111, 116, 59])  // &quot;
            case UInt8(ascii: "'"): bytes.append(contentsOf: [38, 35, 51, 57, 59])  // &#39;
            default: bytes.append(byte)
            }
        }
    }

    /// Appends a number.
    mutating func number(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}

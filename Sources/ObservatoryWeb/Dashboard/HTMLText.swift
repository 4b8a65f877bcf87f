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
        var value = value
        value.withUTF8 { utf8 in
            // Copied in runs between the characters to escape (most text has none).
            var run = 0
            for (index, byte) in utf8.enumerated() {
                let entity: StaticString
                switch byte {
                case UInt8(ascii: "<"): entity = "&lt;"
                case UInt8(ascii: ">"): entity = "&gt;"
                case UInt8(ascii: "&"): entity = "&amp;"
                case UInt8(ascii: "\""): entity = "&quot;"
                case UInt8(ascii: "'"): entity = "&#39;"
                default: continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
                markup(entity)
                run = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<utf8.count]))
        }
    }

    /// Appends a number.
    mutating func number(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}

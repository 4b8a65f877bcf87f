/// Splits a SQL script into statements at top-level semicolons.
///
/// PostgresNIO speaks only the extended query protocol, which takes one statement per
/// message, so a migration file is sent statement by statement inside one transaction.
/// Semicolons inside quoted strings, quoted identifiers, dollar-quoted bodies (function
/// definitions) and comments do not split.
public enum SQLStatementSplitter {
    public static func split(_ script: String) -> [String] {
        let bytes = Array(script.utf8)
        var statements: [String] = []
        var start = 0
        var index = 0
        var hasCode = false

        func flush(upTo end: Int) {
            if hasCode, let text = String(validating: bytes[start..<end], as: UTF8.self) {
                let trimmed = text.trimmingWhitespace()
                if !trimmed.isEmpty { statements.append(trimmed) }
            }
            hasCode = false
        }

        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                var depth = 1
                index += 2
                while index < bytes.count && depth > 0 {
                    if bytes[index] == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                        depth += 1
                        index += 1
                    } else if bytes[index] == UInt8(ascii: "*"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                        depth -= 1
                        index += 1
                    }
                    index += 1
                }
                continue
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                hasCode = true
                index += 1
                while index < bytes.count {
                    if bytes[index] == byte {
                        // A doubled quote is an escaped quote, not the end.
                        if index + 1 < bytes.count && bytes[index + 1] == byte {
                            index += 2
                            continue
                        }
                        break
                    }
                    index += 1
                }
            case UInt8(ascii: "$"):
                hasCode = true
                if let tagEnd = dollarTagEnd(bytes, from: index) {
                    let tag = bytes[index...tagEnd]
                    var search = tagEnd + 1
                    while search < bytes.count {
                        if bytes[search] == UInt8(ascii: "$"), search + tag.count <= bytes.count,
                            bytes[search..<(search + tag.count)].elementsEqual(tag)
                        {
                            break
                        }
                        search += 1
                    }
                    index = min(search + tag.count, bytes.count)
                    continue
                }
            case UInt8(ascii: ";"):
                flush(upTo: index)
                start = index + 1
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                hasCode = true
            }
            index += 1
        }
        flush(upTo: bytes.count)
        return statements
    }

    /// The index of the closing `$` of a dollar-quote tag opening at `start` (`$$` or
    /// `$name$`), or nil when this `$` is something else, such as a `$1` parameter.
    private static func dollarTagEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "$") { return index }
            let isTagCharacter =
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
                || (index > start + 1 && byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            if !isTagCharacter { return nil }
            index += 1
        }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

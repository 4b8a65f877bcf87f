/// Reads a few values out of a JSON document that an instrumentation stored in one string
/// attribute (an MCP request or result), without building the document. It runs at ingest
/// for every span that carries such an attribute, so it walks the bytes once, decodes only
/// the strings it returns, skips every other value, and stops at `maxBytes`. Text that is not
/// JSON, or was cut by the redactor's length limit, gives what was read before the damage.
enum JSONPeek {
    /// Bytes read at most. Attributes are cut to `OBSERVABILITY_MAX_ATTRIBUTE_LENGTH`
    /// (8,192 characters by default, up to 1 MB) before classification; this bounds the walk
    /// when that limit is raised.
    static let maxBytes = 256 * 1_024

    /// A scalar found at a path; containers are reported without their contents.
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case number(String)
        case null
        case object
        case array
    }

    /// The value at `path`, a list of object keys from the root: `["params", "name"]` in
    /// `{"params": {"name": "add"}}`. Nil when a key is missing, a step is not an object, or
    /// the text is not JSON up to that value.
    static func value(at path: [String], in text: String) -> Value? {
        guard !path.isEmpty else { return nil }
        let keys = path.map { Array($0.utf8) }
        var text = text
        return text.withUTF8 { utf8 in
            var reader = Reader(bytes: UnsafeBufferPointer(rebasing: utf8.prefix(maxBytes)))
            return reader.value(at: keys[...])
        }
    }

    /// What an MCP result or JSON-RPC response says about failure (see `failure(in:)`).
    struct Failure: Equatable {
        /// The result has `isError` (or OpenLLMetry's `is_error`) set to `true`.
        var isError: Bool
        /// The JSON-RPC `error` object's `code`, as written.
        var code: String?
        /// The JSON-RPC error's `message`, else the first text content of an `isError` result.
        var message: String?
    }

    /// Whether `text`, an MCP result (`{"content": [...], "isError": true}`), a JSON-RPC
    /// response (`{"result": {...}}` or `{"error": {"code": -32602, "message": "..."}}`) or
    /// either wrapped in a `root` object, reports a failure. Only these places count: an
    /// `isError` inside the content or the structured output of a tool is the tool's data,
    /// not its outcome. With `bareError`, a top-level object with a numeric `code`, a string
    /// `message` and no other member than `data` is a JSON-RPC error object by itself (what
    /// an MCP 1.x server responds with, as Logfire records it:
    /// `{"code": 0, "message": "...", "data": null}`). Nil when nothing reports a failure,
    /// which is decided without parsing when no key in the text could report one (see
    /// `mayReportFailure`): a successful result costs one scan for quotes.
    static func failure(in text: String, bareError: Bool = false) -> Failure? {
        var text = text
        return text.withUTF8 { utf8 in
            let bytes = UnsafeBufferPointer(rebasing: utf8.prefix(maxBytes))
            guard mayReportFailure(bytes, bareError: bareError) else { return nil }
            var reader = Reader(bytes: bytes)
            var found = Failure(isError: false, code: nil, message: nil)
            let bare = reader.collectFailure(into: &found, depth: 0)
            if bareError, !found.isError, found.code == nil, let bare {
                return Failure(isError: false, code: bare.code, message: bare.message)
            }
            guard found.isError || found.code != nil || found.message != nil else { return nil }
            return found
        }
    }

    /// Whether `bytes` hold, anywhere, a key that could report a failure with the value it
    /// could report it with: `"isError": true`, `"is_error": true`, `"error": {`, and with
    /// `bareError` `"code": <number>`. A key inside a JSON string has its quotes escaped
    /// and does not count.
    static func mayReportFailure(_ bytes: UnsafeBufferPointer<UInt8>, bareError: Bool) -> Bool {
        let quote = UInt8(ascii: "\"")
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes[index] == quote else {
                index += 1
                continue
            }
            index += 1
            for (key, value) in failureKeys where matches(key, in: bytes, at: index) {
                if followedByValue(value, in: bytes, at: index + key.count) { return true }
            }
            if bareError, matches(codeKey, in: bytes, at: index), followedByNumber(in: bytes, at: index + codeKey.count) {
                return true
            }
        }
        return false
    }

    /// Keys with their closing quote, and the start of the value that makes them count.
    private static let failureKeys: [([UInt8], [UInt8])] = [
        ("isError\"", "true"), ("is_error\"", "true"), ("error\"", "{"),
    ].map { (Array($0.utf8), Array($1.utf8)) }
    private static let codeKey = Array("code\"".utf8)

    private static func matches(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard bytes.endIndex - start >= needle.count else { return false }
        for offset in 0..<needle.count where bytes[start + offset] != needle[offset] {
            return false
        }
        return true
    }

    /// The index after `:` and the whitespace around it, starting at `start`; nil without a colon.
    private static func valueStart(in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        var index = start
        var colon = false
        while index < bytes.endIndex {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            case UInt8(ascii: ":") where !colon:
                colon = true
                index += 1
            default: return colon ? index : nil
            }
        }
        return nil
    }

    private static func followedByValue(_ value: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard let index = valueStart(in: bytes, at: start) else { return false }
        return matches(value, in: bytes, at: index)
    }

    private static func followedByNumber(in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard let index = valueStart(in: bytes, at: start) else { return false }
        return bytes[index] == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index])
    }

    /// A cursor over the bytes. Every method leaves `index` after what it read, or returns
    /// nil/false on text that is not JSON (the caller then gives up).
    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index: Int

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            self.index = bytes.startIndex
        }

        /// Containers nested deeper than this are not skipped but abandoned, so a hostile
        /// `[[[[…` costs no more than its length.
        static let maxSkipDepth = 512

        mutating func skipWhitespace() {
            while index < bytes.endIndex {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// Peeks the next significant byte.
        mutating func next() -> UInt8? {
            skipWhitespace()
            return index < bytes.endIndex ? bytes[index] : nil
        }

        /// The value at `keys` from here, where a value starts.
        mutating func value(at keys: ArraySlice<[UInt8]>) -> Value? {
            guard let key = keys.first else { return scalar() }
            var found: Value?
            let complete = forEachMember { reader, name in
                guard name.elementsEqual(key) else { return reader.skipValue() }
                found = reader.value(at: keys.dropFirst())
                return false
            }
            return complete ? nil : found
        }

        /// Calls `body` with each member's key (raw bytes between the quotes), positioned at
        /// its value; `body` reads or skips the value and returns whether to go on. Returns
        /// true when the object was read to its end, false when it stopped early or on text
        /// that is not an object.
        mutating func forEachMember(_ body: (inout Reader, UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
            guard next() == UInt8(ascii: "{") else { return false }
            index += 1
            if next() == UInt8(ascii: "}") {
                index += 1
                return true
            }
            while true {
                guard next() == UInt8(ascii: "\""), let key = rawString() else { return false }
                guard next() == UInt8(ascii: ":") else { return false }
                index += 1
                guard body(&self, key) else { return false }
                switch next() {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return true
                default: return false
                }
            }
        }

        /// The failure fields of the object that starts here, looking into `result` and
        /// `root` up to two levels down. Returns the top-level object's numeric `code` and
        /// string `message` when it has both and nothing but them and `data` (the members of a
        /// JSON-RPC error object), for the caller to judge.
        mutating func collectFailure(into found: inout Failure, depth: Int) -> (code: String, message: String)? {
            var firstText: String?
            var ownCode: String?
            var ownMessage: String?
            var ownOthers = false
            _ = forEachMember { reader, key in
                if depth == 0, !key.elementsEqual("code".utf8), !key.elementsEqual("message".utf8),
                    !key.elementsEqual("data".utf8)
                {
                    ownOthers = true
                }
                if depth == 0, key.elementsEqual("code".utf8) {
                    guard let code = reader.scalar() else { return false }
                    if case .number(let number) = code { ownCode = number }
                } else if depth == 0, key.elementsEqual("message".utf8) {
                    guard let message = reader.scalar() else { return false }
                    if case .string(let text) = message { ownMessage = text }
                } else if key.elementsEqual("isError".utf8) || key.elementsEqual("is_error".utf8) {
                    guard let flag = reader.scalar() else { return false }
                    if flag == .bool(true) { found.isError = true }
                } else if key.elementsEqual("error".utf8), reader.next() == UInt8(ascii: "{") {
                    return reader.forEachMember { reader, field in
                        if field.elementsEqual("code".utf8), let code = reader.scalar() {
                            if case .number(let number) = code { found.code = number }
                            if case .string(let text) = code { found.code = text }
                            return true
                        }
                        if field.elementsEqual("message".utf8), let message = reader.scalar() {
                            if case .string(let text) = message { found.message = text }
                            return true
                        }
                        return reader.skipValue()
                    }
                } else if key.elementsEqual("content".utf8), firstText == nil, reader.next() == UInt8(ascii: "[") {
                    return reader.firstText(into: &firstText)
                } else if depth < 2, key.elementsEqual("result".utf8) || key.elementsEqual("root".utf8),
                    reader.next() == UInt8(ascii: "{")
                {
                    _ = reader.collectFailure(into: &found, depth: depth + 1)
                    // A nested object read to its end is followed by "," or "}".
                    return true
                } else {
                    return reader.skipValue()
                }
                return true
            }
            if found.isError, found.message == nil { found.message = firstText }
            guard let ownCode, let ownMessage, !ownOthers else { return nil }
            return (ownCode, ownMessage)
        }

        /// Reads the array that starts here and keeps the `text` of its first element.
        mutating func firstText(into text: inout String?) -> Bool {
            index += 1  // "["
            var first = true
            while true {
                switch next() {
                case UInt8(ascii: "]"):
                    index += 1
                    return true
                case UInt8(ascii: ","):
                    index += 1
                default:
                    if first {
                        first = false
                        let complete = forEachMember { reader, key in
                            guard key.elementsEqual("text".utf8), case .string(let value)? = reader.scalar() else {
                                return reader.skipValue()
                            }
                            text = value
                            return true
                        }
                        if !complete { return false }
                    } else if !skipValue() {
                        return false
                    }
                }
            }
        }

        /// The value that starts here, decoding only a string.
        mutating func scalar() -> Value? {
            switch next() {
            case UInt8(ascii: "\""):
                return rawString().flatMap { Reader.decode($0) }.map(Value.string)
            case UInt8(ascii: "{"):
                return skipValue() ? .object : nil
            case UInt8(ascii: "["):
                return skipValue() ? .array : nil
            case UInt8(ascii: "t"):
                return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"):
                return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"):
                return literal("null") ? .null : nil
            case .some:
                let start = index
                while index < bytes.endIndex, Reader.isNumberByte(bytes[index]) { index += 1 }
                guard index > start else { return nil }
                return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
            case nil:
                return nil
            }
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.endIndex - index >= count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
                return false
            }
            index += count
            return true
        }

        static func isNumberByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                UInt8(ascii: "e"), UInt8(ascii: "E"):
                true
            default: false
            }
        }

        /// Skips the value that starts here, strings and nesting included, without decoding.
        mutating func skipValue() -> Bool {
            switch next() {
            case UInt8(ascii: "\""):
                return rawString() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.endIndex {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        guard rawString() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                        guard depth <= Reader.maxSkipDepth else { return false }
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default: break
                    }
                    index += 1
                }
                return false
            case .some:
                return scalar() != nil
            case nil:
                return false
            }
        }

        /// The raw bytes of the string that starts here (at its opening quote), escapes
        /// left as written; nil when the string does not end.
        mutating func rawString() -> UnsafeBufferPointer<UInt8>? {
            let start = index + 1
            var cursor = start
            while cursor < bytes.endIndex {
                switch bytes[cursor] {
                case UInt8(ascii: "\\"): cursor += 2
                case UInt8(ascii: "\""):
                    index = cursor + 1
                    return UnsafeBufferPointer(rebasing: bytes[start..<cursor])
                default: cursor += 1
                }
            }
            return nil
        }

        /// The text of a string's raw bytes, escapes decoded (`\uD83D\uDE00` pairs
        /// included); nil on a broken escape.
        static func decode(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
            guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
            var scalars = String.UnicodeScalarView()
            var plain: [UInt8] = []
            var index = raw.startIndex
            func flush() {
                if !plain.isEmpty {
                    scalars.append(contentsOf: String(decoding: plain, as: UTF8.self).unicodeScalars)
                    plain.removeAll(keepingCapacity: true)
                }
            }
            func hex4(at start: Int) -> UInt32? {
                guard raw.endIndex - start >= 4 else { return nil }
                var value: UInt32 = 0
                for byte in raw[start..<start + 4] {
                    guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
                    value = value << 4 | UInt32(digit)
                }
                return value
            }
            while index < raw.endIndex {
                let byte = raw[index]
                guard byte == UInt8(ascii: "\\") else {
                    plain.append(byte)
                    index += 1
                    continue
                }
                guard index + 1 < raw.endIndex else { return nil }
                let escaped = raw[index + 1]
                index += 2
                switch escaped {
                case UInt8(ascii: "n"): plain.append(0x0A)
                case UInt8(ascii: "t"): plain.append(0x09)
                case UInt8(ascii: "r"): plain.append(0x0D)
                case UInt8(ascii: "b"): plain.append(0x08)
                case UInt8(ascii: "f"): plain.append(0x0C)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): plain.append(escaped)
                case UInt8(ascii: "u"):
                    guard var code = hex4(at: index) else { return nil }
                    index += 4
                    if (0xD800..<0xDC00).contains(code), raw.endIndex - index >= 6, raw[index] == UInt8(ascii: "\\"),
                        raw[index + 1] == UInt8(ascii: "u"), let low = hex4(at: index + 2), (0xDC00..<0xE000).contains(low)
                    {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                    flush()
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: return nil
                }
            }
            flush()
            return String(scalars)
        }
    }
}

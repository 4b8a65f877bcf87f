/// Rule 4 of docs/redaction.md: hides the user information of `scheme://user:password@host`
/// (the password, or a lone user name, which is often a token) and the values of
/// `name=value` pairs with secret names (`?token=…`, `&api_key=…`, `password=…`) inside any
/// string.
///
/// Both passes work on UTF-8 bytes and read each byte a bounded number of times, so the time
/// is linear in the text whatever it holds (issue 9: a search per `://` to the end of the
/// string took 26 s for 80 KB of `x://`). Every byte they look for is ASCII, which never
/// occurs inside a multi-byte character, so the output is valid UTF-8 again.
enum URLRedactor {
    /// `isQuery`: the whole text is a query string (`url.query` holds one without its `?`),
    /// so its first name counts as a query parameter too.
    static func redact(_ text: String, isQuery: Bool = false) -> String {
        String(decoding: hidingSecretParameters(hidingUserInformation(Array(text.utf8)), isQuery: isQuery), as: UTF8.self)
    }

    /// Query parameters secret by their whole name, besides the secret keys of rule 1: an API
    /// key (`key`, Google), a signature (`sig`, Azure SAS), an OAuth authorization code (`code`).
    /// Only right after `?` or `&`, or first in a query string: `exit code=3` in a message stays.
    static let secretQueryParameters: Set<String> = ["key", "sig", "code"]

    private static let marker = Array(Redactor.marker.utf8)

    // MARK: User information

    /// In every `scheme://authority`, the user information (what comes before the last `@`
    /// of the authority) loses its password, or, without a password, the whole user name.
    /// The authority ends at `/`, `?`, `#`, white space or a character no URL holds
    /// unencoded; so each authority is read once, and the next `://` is searched after it.
    static func hidingUserInformation(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var copied = 0
        var index = 0
        while index + 2 < input.count {
            guard input[index] == UInt8(ascii: ":"), input[index + 1] == UInt8(ascii: "/"), input[index + 2] == UInt8(ascii: "/")
            else {
                index += 1
                continue
            }
            let start = index + 3
            var end = start
            var lastAt: Int?
            while end < input.count, !endsAuthority(input[end]) {
                if input[end] == UInt8(ascii: "@") { lastAt = end }
                end += 1
            }
            if let at = lastAt, at > start {
                if output.isEmpty { output.reserveCapacity(input.count + marker.count) }
                output.append(contentsOf: input[copied..<start])
                if let colon = input[start..<at].firstIndex(of: UInt8(ascii: ":")) {
                    output.append(contentsOf: input[start...colon])
                }
                output.append(contentsOf: marker)
                copied = at
            }
            // No `://` starts inside the authority (it holds no `/`), but one may start at its
            // last byte: `a://b://c`.
            index = max(start, end - 1)
        }
        guard copied > 0 else { return input }
        output.append(contentsOf: input[copied...])
        return output
    }

    /// Bytes that end an authority: its delimiters, white space and control characters, and
    /// characters that must be percent-encoded in a URL (quotes, brackets of text).
    private static func endsAuthority(_ byte: UInt8) -> Bool {
        switch byte {
        case 0...0x20, 0x7F: true
        case UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "\""), UInt8(ascii: "'"),
            UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "`"), UInt8(ascii: "\\"), UInt8(ascii: "{"),
            UInt8(ascii: "}"), UInt8(ascii: "|"), UInt8(ascii: "^"):
            true
        default: false
        }
    }

    // MARK: Secret parameters

    /// For every `=`, the name right before it (letters, digits, `_`, `-`, `.`, `%`) is judged;
    /// a secret name's value becomes the marker: up to the next `&`, `;`, `,`, `#` or white
    /// space, or, when it starts with a quote, up to and including the closing quote. A name
    /// is read back only to the previous `=`, and a value forward once, so every byte is read
    /// at most twice.
    static func hidingSecretParameters(_ input: [UInt8], isQuery: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        var copied = 0
        var floor = 0  // a name starts at or after this: just past the previous `=` or value
        var index = 0
        while index < input.count {
            guard input[index] == UInt8(ascii: "=") else {
                index += 1
                continue
            }
            var nameStart = index
            while nameStart > floor, isNameByte(input[nameStart - 1]) { nameStart -= 1 }
            let valueStart = index + 1
            floor = valueStart
            index = valueStart
            guard nameStart < valueStart - 1 else { continue }
            let inQuery =
                nameStart == 0
                ? isQuery : (input[nameStart - 1] == UInt8(ascii: "?") || input[nameStart - 1] == UInt8(ascii: "&"))
            guard isSecret(name: input[nameStart..<(valueStart - 1)], inQuery: inQuery) else { continue }
            let valueEnd = endOfValue(input, from: valueStart)
            if output.isEmpty { output.reserveCapacity(input.count) }
            output.append(contentsOf: input[copied..<valueStart])
            output.append(contentsOf: marker)
            copied = valueEnd
            floor = valueEnd
            index = valueEnd
        }
        guard copied > 0 else { return input }
        output.append(contentsOf: input[copied...])
        return output
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "%"), 0x80...0xFF:
            true
        default: false
        }
    }

    /// A name is judged after percent-decoding (`api%5Fkey` is `api_key`).
    private static func isSecret(name: ArraySlice<UInt8>, inQuery: Bool) -> Bool {
        let decoded = String(decoding: percentDecoded(name), as: UTF8.self)
        if Redactor.isSecret(key: decoded) { return true }
        return inQuery && decoded.utf8.count <= 4 && secretQueryParameters.contains(decoded.lowercased())
    }

    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "%")) else { return Array(bytes) }
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        return decoded
    }

    private static func endOfValue(_ input: [UInt8], from start: Int) -> Int {
        if start < input.count, input[start] == UInt8(ascii: "'") || input[start] == UInt8(ascii: "\"") {
            let quote = input[start]
            return input[(start + 1)...].firstIndex(of: quote).map { $0 + 1 } ?? input.count
        }
        return input[start...].firstIndex { byte in
            byte <= 0x20 || byte == UInt8(ascii: "&") || byte == UInt8(ascii: ";") || byte == UInt8(ascii: ",")
                || byte == UInt8(ascii: "#")
        } ?? input.count
    }
}

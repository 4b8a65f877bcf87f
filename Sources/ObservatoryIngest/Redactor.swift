import Synchronization

/// Removes secrets from span data before anything is stored. Span attributes come from
/// gateways that record request headers, connection strings and SQL text; none of the
/// secrets in them may reach the database, the pages or the APIs. docs/redaction.md
/// lists these rules: change both together.
public struct Redactor: Sendable {
    /// The stored replacement for a secret value.
    public static let marker = "[REDACTED]"

    /// Longest string kept, in characters; the rest is cut and marked.
    public var maxValueLength: Int

    public init(maxValueLength: Int) {
        self.maxValueLength = maxValueLength
    }

    /// Words that make a key secret wherever they stand in it, as a whole word
    /// (`http.request.header.authorization`, `x-auth-token`, `client_secret`).
    static let secretWords: Set<String> = [
        "authorization", "cookie", "cookies", "password", "passwd", "pwd", "passphrase", "secret", "token",
        "apikey", "credential", "credentials", "jwt", "bearer", "privatekey", "signature",
    ]
    /// Fragments that make a key secret even inside a longer word (`XAPIKey`, `dbpassword`).
    static let secretFragments = ["apikey", "password", "passwd", "authorization", "credential"]
    /// Adjacent word pairs that make a key secret (`x-api-key`, `private_key`, `accessKey`).
    static let secretPairs: Set<String> = ["api key", "private key", "access key", "secret key", "session key"]

    /// Keys whose value is SQL: literals are replaced by `?`.
    static let sqlKeys: Set<String> = ["db.query.text", "db.statement"]

    /// Whether `key` names a secret. Keys are split into words at punctuation and at
    /// camelCase humps, so `input_tokens` (a count) is not a secret but `auth_token` is.
    public static func isSecret(key: String) -> Bool {
        if let known = secretKeyCache.withLock({ $0[key] }) { return known }
        let secret = splitsIntoSecretWords(key)
        secretKeyCache.withLock { cache in
            if cache.count >= 10_000 { cache.removeAll(keepingCapacity: true) }
            cache[key] = secret
        }
        return secret
    }

    /// Attribute keys repeat across spans, so each is split into words once.
    private static let secretKeyCache = Mutex<[String: Bool]>([:])

    private static func splitsIntoSecretWords(_ key: String) -> Bool {
        var words: [String] = []
        var current = ""
        var previousWasLower = false
        for scalar in key.unicodeScalars {
            let isLetterOrDigit = scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
            if !isLetterOrDigit {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousWasLower = false
                continue
            }
            let isUpper = scalar.properties.isUppercase
            if isUpper && previousWasLower {
                words.append(current)
                current = ""
            }
            current.unicodeScalars.append(contentsOf: String(scalar).lowercased().unicodeScalars)
            previousWasLower = !isUpper
        }
        if !current.isEmpty { words.append(current) }
        for (index, word) in words.enumerated() {
            if secretWords.contains(word) { return true }
            if secretFragments.contains(where: { word.contains($0) }) { return true }
            if index + 1 < words.count, secretPairs.contains("\(word) \(words[index + 1])") { return true }
        }
        return false
    }

    /// `attributes` with secrets replaced, SQL literals removed, URLs stripped of
    /// credentials and long values cut. A secret key's number or boolean stays (a
    /// `token_count` of 42 reveals nothing); its strings, bytes and structures do not.
    public func redact(_ attributes: [Attribute]) -> [Attribute] {
        attributes.map { attribute in
            Attribute(key: clean(attribute.key), value: redact(attribute.value, key: attribute.key))
        }
    }

    func redact(_ value: AttributeValue, key: String) -> AttributeValue {
        if Self.isSecret(key: key) {
            switch value {
            case .int, .double, .bool: return value
            case .string, .bytes, .array, .map: return .string(Self.marker)
            }
        }
        switch value {
        case .string(let text):
            if Self.sqlKeys.contains(key) { return .string(clean(SQLLiteralStripper.strip(text))) }
            return .string(cleanText(text))
        case .bytes(let bytes):
            return bytes.count > maxValueLength ? .bytes(Array(bytes.prefix(maxValueLength))) : value
        case .array(let values):
            return .array(values.map { redact($0, key: key) })
        case .map(let entries):
            return .map(redact(entries))
        case .int, .double, .bool:
            return value
        }
    }

    /// A stored free-text string (a value, a span or event name, a status message):
    /// credentials in URLs and `secret=value` pairs hidden, then cleaned.
    public func cleanText(_ text: String) -> String {
        let found = Self.scan(text)
        if found.credentialMarker {
            return clean(URLRedactor.redact(text), knownNUL: nil)
        }
        return clean(text, knownNUL: found.nul)
    }

    /// One pass over the bytes for what decides the slower paths: `@` or `=` (a URL with
    /// credentials, a `secret=value` pair) and NUL.
    static func scan(_ text: String) -> (credentialMarker: Bool, nul: Bool) {
        var text = text
        return text.withUTF8 { utf8 in
            var marker = false
            var nul = false
            for byte in utf8 {
                if byte == UInt8(ascii: "@") || byte == UInt8(ascii: "=") { marker = true }
                if byte == 0 { nul = true }
            }
            return (marker, nul)
        }
    }

    /// A stored string: NUL characters (which PostgreSQL text cannot hold) replaced, and cut
    /// to the maximum length with a marker saying how much was dropped.
    public func clean(_ text: String) -> String {
        clean(text, knownNUL: nil)
    }

    /// `knownNUL` is whether the caller already scanned `text` for NUL; nil scans here.
    func clean(_ text: String, knownNUL: Bool?) -> String {
        var text = text
        if knownNUL ?? Self.scan(text).nul {
            text = String(text.unicodeScalars.map { $0 == "\0" ? "\u{FFFD}" : Character($0) })
        }
        guard text.utf8.count > maxValueLength else { return text }
        let count = text.count
        guard count > maxValueLength else { return text }
        return String(text.prefix(maxValueLength)) + "…[truncated \(count - maxValueLength) chars]"
    }
}

/// Hides the password of `scheme://user:password@host` and the values of query
/// parameters with secret names (`?token=…`, `&api_key=…`) inside any string.
enum URLRedactor {
    static func redact(_ text: String) -> String {
        var result = text
        // user:password@ after every scheme.
        var searchStart = result.startIndex
        while let scheme = result.range(of: "://", range: searchStart..<result.endIndex) {
            searchStart = scheme.upperBound
            guard let at = result[scheme.upperBound...].firstIndex(of: "@") else { break }
            let userInfo = result[scheme.upperBound..<at]
            guard !userInfo.contains("/"), let colon = userInfo.firstIndex(of: ":") else { continue }
            let passwordStart = result.index(after: colon)
            result.replaceSubrange(passwordStart..<at, with: Redactor.marker)
            searchStart = result.index(passwordStart, offsetBy: Redactor.marker.count)
        }
        // name=value pairs, in query strings and in key=value connection strings; a quoted
        // value ends at its closing quote.
        var output = ""
        var rest = result[...]
        while let equals = rest.firstIndex(of: "=") {
            let before = rest[..<equals]
            let nameStart = before.lastIndex { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
            let name = nameStart.map { before[before.index(after: $0)...] } ?? before
            output += rest[...equals]
            rest = rest[rest.index(after: equals)...]
            if !name.isEmpty, Redactor.isSecret(key: String(name)) {
                let valueEnd: Substring.Index
                if let quote = rest.first, quote == "'" || quote == "\"" {
                    let afterQuote = rest.index(after: rest.startIndex)
                    valueEnd = rest[afterQuote...].firstIndex(of: quote).map { rest.index(after: $0) } ?? rest.endIndex
                } else {
                    valueEnd = rest.firstIndex { $0 == "&" || $0 == ";" || $0 == " " || $0 == "#" || $0 == "," } ?? rest.endIndex
                }
                output += Redactor.marker
                rest = rest[valueEnd...]
            }
        }
        output += rest
        return output
    }
}

/// Replaces the literals of a SQL statement with `?`: quoted strings (also `E'…'` and
/// dollar-quoted), numbers, and comments (removed: they can hold anything). Identifiers,
/// quoted identifiers and `$1` parameters stay, so the statement still reads.
enum SQLLiteralStripper {
    static func strip(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func isIdentifierByte(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x5F || byte == 0x24 || byte >= 0x80
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"):
                // Drop a one-letter prefix such as E'…' or X'…' that was already copied.
                if let last = out.last, (last | 0x20) == UInt8(ascii: "e") || (last | 0x20) == UInt8(ascii: "x")
                    || (last | 0x20) == UInt8(ascii: "b") || (last | 0x20) == UInt8(ascii: "n"),
                    out.count < 2 || !isIdentifierByte(out[out.count - 2])
                {
                    out.removeLast()
                }
                index += 1
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 2; continue }
                    if bytes[index] == UInt8(ascii: "'") {
                        if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "'") { index += 2; continue }
                        break
                    }
                    index += 1
                }
                index += 1
                out.append(UInt8(ascii: "?"))
            case UInt8(ascii: "\""):
                // Quoted identifier: keep.
                out.append(byte)
                index += 1
                while index < bytes.count {
                    out.append(bytes[index])
                    if bytes[index] == UInt8(ascii: "\"") { break }
                    index += 1
                }
                index += 1
            case UInt8(ascii: "$"):
                // $1 parameters stay; $tag$…$tag$ bodies are literals.
                var tagEnd = index + 1
                while tagEnd < bytes.count, isIdentifierByte(bytes[tagEnd]), bytes[tagEnd] != UInt8(ascii: "$") { tagEnd += 1 }
                let isParameter = tagEnd > index + 1 && bytes[(index + 1)..<tagEnd].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                if !isParameter, tagEnd < bytes.count, bytes[tagEnd] == UInt8(ascii: "$") {
                    let tag = Array(bytes[index...tagEnd])
                    var search = tagEnd + 1
                    while search + tag.count <= bytes.count, !bytes[search..<(search + tag.count)].elementsEqual(tag) {
                        search += 1
                    }
                    index = min(search + tag.count, bytes.count)
                    out.append(UInt8(ascii: "?"))
                } else {
                    out.append(contentsOf: bytes[index..<tagEnd])
                    index = tagEnd
                }
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                // Block comments nest in PostgreSQL: /* a /* b */ c */ is one comment.
                var depth = 1
                index += 2
                while index < bytes.count && depth > 0 {
                    if bytes[index] == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                        depth += 1
                        index += 2
                    } else if bytes[index] == UInt8(ascii: "*"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                        depth -= 1
                        index += 2
                    } else {
                        index += 1
                    }
                }
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "0")...UInt8(ascii: "9") where out.last.map { !isIdentifierByte($0) } ?? true:
                // A number not inside an identifier: digits, a fraction, an exponent, hex.
                index += 1
                while index < bytes.count {
                    let next = bytes[index]
                    let isDigitLike = (next >= 0x30 && next <= 0x39) || next == UInt8(ascii: ".") || next == UInt8(ascii: "_")
                        || (next | 0x20) == UInt8(ascii: "e") || (next | 0x20) == UInt8(ascii: "x")
                        || ((next | 0x20) >= UInt8(ascii: "a") && (next | 0x20) <= UInt8(ascii: "f"))
                    let isExponentSign = (next == UInt8(ascii: "+") || next == UInt8(ascii: "-"))
                        && (bytes[index - 1] | 0x20) == UInt8(ascii: "e")
                    guard isDigitLike || isExponentSign else { break }
                    index += 1
                }
                out.append(UInt8(ascii: "?"))
            default:
                out.append(byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

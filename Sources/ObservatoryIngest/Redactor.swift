import Foundation

/// Removes secrets from span data before anything is stored. Span attributes come from
/// gateways that record request headers, connection strings and SQL text; none of the
/// secrets in them may reach the database, the pages or the APIs. docs/redaction.md
/// lists these rules: change both together.
///
/// Every rule runs in time linear in its input (a client chooses the input: issue 9 found a
/// quadratic URL scan that took 26 s for one 80 KB value). The rules live in
/// `Redactor+SecretKeys.swift` (rule 1), `Redactor+SQL.swift` (rule 3) and
/// `Redactor+URL.swift` (rule 4).
public struct Redactor: Sendable {
    /// The stored replacement for a secret value.
    public static let marker = "[REDACTED]"

    /// Longest string kept, in characters; the rest is cut and marked.
    public var maxValueLength: Int

    public init(maxValueLength: Int) {
        self.maxValueLength = maxValueLength
    }

    /// Keys whose value is a database statement: literals are replaced by `?`.
    static let statementKeys: Set<String> = ["db.query.text", "db.statement", "db.query.summary", "sql.query"]

    /// Keys whose value is a query string without its `?` (OpenTelemetry's `url.query`):
    /// its first parameter is judged as a query parameter (`key=…` alone is an API key).
    static let queryStringKeys: Set<String> = ["url.query"]

    /// `attributes` with secrets replaced, SQL literals removed, URLs stripped of
    /// credentials and long values cut. A secret key's number or boolean stays (a
    /// `token_count` of 42 reveals nothing); its strings, bytes and structures do not.
    public func redact(_ attributes: [Attribute]) -> [Attribute] {
        redact(attributes, system: nil)
    }

    /// A span's attributes, their keys' facts and database system found through the index.
    func redact(_ attributes: IndexedAttributes) -> [Attribute] {
        redact(
            attributes.attributes, facts: attributes.index.facts,
            system: attributes.text(.dbSystemName) ?? attributes.text(.dbSystem))
    }

    /// `system` is the database system of the enclosing attributes, for a map without its own.
    func redact(_ attributes: [Attribute], system: String?) -> [Attribute] {
        let facts = Self.keyFacts.withLock { cache in attributes.map { cache.facts(of: $0.key) } }
        return redact(
            attributes, facts: facts, system: attributes.text("db.system.name") ?? attributes.text("db.system") ?? system)
    }

    /// `facts` are those of each attribute's key, in order; `system` is the database system
    /// that applies to these attributes' statements. Most attributes need no change, and
    /// when none does the array given is returned as it is: a new array of copies costs an
    /// allocation and a reference count per key and value, for every span.
    private func redact(_ attributes: [Attribute], facts: [KeyFacts], system: String?) -> [Attribute] {
        var redacted: [Attribute]?
        for (position, attribute) in attributes.enumerated() {
            let keyFacts = facts[position]
            // A key is cleaned only when it needs it, which its facts say without a scan.
            let keyChanges = keyFacts.nul || keyFacts.bytes > maxValueLength
            let value = redactedIfChanged(attribute.value, facts: keyFacts, system: system)
            if redacted == nil {
                guard keyChanges || value != nil else { continue }
                var copy: [Attribute] = []
                copy.reserveCapacity(attributes.count)
                copy.append(contentsOf: attributes[..<position])
                redacted = copy
            }
            let key = keyChanges ? clean(attribute.key, knownNUL: keyFacts.nul) : attribute.key
            redacted?.append(Attribute(key: key, value: value ?? attribute.value))
        }
        return redacted ?? attributes
    }

    /// `facts` are those of the key the value is under.
    func redact(_ value: AttributeValue, facts: KeyFacts, system: String?) -> AttributeValue {
        redactedIfChanged(value, facts: facts, system: system) ?? value
    }

    /// The value as stored, or nil when it is stored as sent. A string is unchanged when
    /// it holds no `@`, `=` or NUL and is within the length limit: then neither the URL
    /// rules nor cleaning touch it.
    private func redactedIfChanged(_ value: AttributeValue, facts: KeyFacts, system: String?) -> AttributeValue? {
        if facts.secret {
            switch value {
            case .int, .double, .bool: return nil
            case .string, .bytes, .array, .map: return .string(Self.marker)
            }
        }
        switch value {
        case .string(let text):
            if facts.statement {
                return .string(clean(SQLLiteralStripper.strip(text, dialect: SQLDialect(system: system))))
            }
            let found = Self.scan(text)
            if !found.credentialMarker, !found.nul, text.utf8.count <= maxValueLength { return nil }
            return .string(cleanText(text, isQuery: facts.query, found: found))
        case .bytes(let bytes):
            return bytes.count > maxValueLength ? .bytes(Array(bytes.prefix(maxValueLength))) : nil
        case .array(let values):
            return .array(values.map { redact($0, facts: facts, system: system) })
        case .map(let entries):
            return .map(redact(entries, system: system))
        case .int, .double, .bool:
            return nil
        }
    }

    /// A stored free-text string (a value, a span or event name, a status message):
    /// credentials in URLs and `secret=value` pairs hidden, then cleaned.
    public func cleanText(_ text: String) -> String {
        cleanText(text, isQuery: false, found: Self.scan(text))
    }

    /// `isQuery`: `text` is a whole query string (``queryStringKeys``); `found` is what
    /// ``scan(_:)`` found in `text`.
    private func cleanText(_ text: String, isQuery: Bool, found: (credentialMarker: Bool, nul: Bool)) -> String {
        if found.credentialMarker {
            return clean(URLRedactor.redact(text, isQuery: isQuery), knownNUL: nil)
        }
        return clean(text, knownNUL: found.nul)
    }

    /// Whether the text holds what decides the slower paths: `@` or `=` (a URL with
    /// credentials, a `secret=value` pair) and NUL. Three `memchr` passes, which read
    /// many bytes at a time, instead of one branching pass byte by byte.
    static func scan(_ text: String) -> (credentialMarker: Bool, nul: Bool) {
        func scan(_ utf8: UnsafeBufferPointer<UInt8>) -> (credentialMarker: Bool, nul: Bool) {
            guard let base = utf8.baseAddress, !utf8.isEmpty else { return (false, false) }
            let marker =
                memchr(base, Int32(UInt8(ascii: "@")), utf8.count) != nil
                || memchr(base, Int32(UInt8(ascii: "=")), utf8.count) != nil
            return (marker, memchr(base, 0, utf8.count) != nil)
        }
        if let found = text.utf8.withContiguousStorageIfAvailable(scan) { return found }
        var text = text
        return text.withUTF8(scan)
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
        if isTruncatedHere(text) { return text }
        return String(text.prefix(maxValueLength)) + Self.truncationMarker(dropped: count - maxValueLength)
    }

    /// What a cut value ends with: how many characters were dropped, between these two.
    static let truncationOpening = "…[truncated "
    static let truncationClosing = " chars]"

    static func truncationMarker(dropped: Int) -> String { truncationOpening + String(dropped) + truncationClosing }

    /// Whether `text` is a value this redactor already cut: the maximum length of
    /// characters followed by the marker. Such a value passes again unchanged, so a trace
    /// exported and sent back (docs/api.md, "Export") stores what it stored before, instead
    /// of a marker counting the first marker's characters.
    func isTruncatedHere(_ text: String) -> Bool {
        guard let open = text.range(of: Self.truncationOpening, options: .backwards) else { return false }
        let rest = text[open.upperBound...]
        guard rest.hasSuffix(Self.truncationClosing) else { return false }
        let digits = rest.dropLast(Self.truncationClosing.count)
        guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy({ ("0"..."9").contains($0) }), (Int(digits) ?? 0) > 0 else {
            return false
        }
        return text[..<open.lowerBound].count == maxValueLength
    }
}

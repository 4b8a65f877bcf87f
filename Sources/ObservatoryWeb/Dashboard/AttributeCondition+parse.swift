import ObservatoryStore

/// The grammar of the trace list's `attr` parameter, one condition each (repeat the
/// parameter for more; a trace matches when one of its spans meets them all):
///
///     [resource:]KEY=VALUE     the value, as text, is VALUE
///     [resource:]KEY!=VALUE    the key is present with another value
///     [resource:]KEY exists    the key is present
///     [resource:]KEY>NUMBER    the value is a JSON number above NUMBER (and < below)
///
/// KEY is a span attribute's name (`http.route`), or with `resource:` one of the
/// process's resource attributes (`resource:service.version`). The key ends at the first
/// `!`, `=`, `<` or `>`; a key holding one of those (or a quote, or spaces at its ends)
/// is written in double quotes, `""` for a quote inside: `"a=b"=1`. Spaces around key
/// and value are dropped. Keys and values are bound as parameters, never part of the
/// SQL text.
extension AttributeCondition {
    /// The most conditions one search takes: each adds a test on every span it reads.
    static let maxCount = 10
    /// The longest key, in Unicode scalar values (OpenTelemetry keys are short dotted names).
    static let maxKeyScalars = 200
    /// The longest value, in Unicode scalar values.
    static let maxValueScalars = 500

    /// Reads one `attr` parameter; a precise ``BadQuery`` when it is malformed.
    init(parsing raw: String) throws(BadQuery) {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let shown = Self.shown(text)
        guard !containsControlCharacters(text) else {
            throw BadQuery(message: "attr \(shown) must not contain control characters")
        }
        var body = Substring(text)
        var scope = Scope.span
        if body.hasPrefix(Self.resourcePrefix) {
            scope = .resource
            body = body.dropFirst(Self.resourcePrefix.count)
        }
        let key: String
        let rest: Substring
        if body.first == "\"" {
            guard let (quoted, after) = Self.quotedKey(body) else {
                throw BadQuery(message: "attr \(shown): the quoted key has no closing \" (write \"\" for a quote inside it)")
            }
            key = quoted
            rest = after.drop { $0 == " " }
            if rest == "exists" {
                try self.init(scope: scope, key: key, comparison: .exists, shown: shown)
                return
            }
            guard let first = rest.first, "!=<>".contains(first) else {
                throw BadQuery(
                    message: "attr \(shown) needs an operator after the key: =, !=, exists, > or <")
            }
        } else if let index = body.firstIndex(where: { "!=<>".contains($0) }) {
            key = body[..<index].trimmingCharacters(in: .whitespaces)
            rest = body[index...]
        } else if body.hasSuffix(" exists") {
            try self.init(
                scope: scope, key: body.dropLast(" exists".count).trimmingCharacters(in: .whitespaces),
                comparison: .exists, shown: shown)
            return
        } else {
            throw BadQuery(
                message: "attr \(shown) needs an operator: key=value, key!=value, key exists, key>number or key<number")
        }
        let operatorText: String
        if rest.hasPrefix("!=") {
            operatorText = "!="
        } else if rest.first == "!" {
            throw BadQuery(message: "attr \(shown): ! must be followed by = (key!=value)")
        } else {
            operatorText = String(rest.prefix(1))
        }
        let value = rest.dropFirst(operatorText.count).trimmingCharacters(in: .whitespaces)
        guard value.unicodeScalars.count <= Self.maxValueScalars else {
            throw BadQuery(
                message: "attr \(shown): the value must be at most \(Self.maxValueScalars) characters (Unicode scalar values)")
        }
        let comparison: Comparison
        switch operatorText {
        case "=": comparison = .equals(value)
        case "!=": comparison = .notEquals(value)
        default:
            guard let number = Double(value), number.isFinite else {
                throw BadQuery(
                    message: "attr \(shown): \(operatorText) compares numbers, and \(value.debugDescription) is not one")
            }
            comparison = operatorText == ">" ? .greaterThan(number) : .lessThan(number)
        }
        try self.init(scope: scope, key: key, comparison: comparison, shown: shown)
    }

    /// The checks every form shares: a key, not too long.
    private init(scope: Scope, key: String, comparison: Comparison, shown: String) throws(BadQuery) {
        guard !key.isEmpty else {
            throw BadQuery(message: "attr \(shown) names no attribute before its operator")
        }
        guard key.unicodeScalars.count <= Self.maxKeyScalars else {
            throw BadQuery(
                message: "attr \(shown): the key must be at most \(Self.maxKeyScalars) characters (Unicode scalar values)")
        }
        self.init(scope: scope, key: key, comparison: comparison)
    }

    /// A key in double quotes at the start of `text` (`""` for a quote inside it) and what
    /// follows its closing quote; nil when it is not closed.
    private static func quotedKey(_ text: Substring) -> (String, Substring)? {
        var key = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            guard character == "\"" else {
                key.append(character)
                continue
            }
            guard index < text.endIndex, text[index] == "\"" else { return (key, text[index...]) }
            key.append("\"")
            index = text.index(after: index)
        }
        return nil
    }

    /// Every non-empty `attr` parameter of a request, in order (a form sends empty fields
    /// for the rows left blank); at most ``maxCount``.
    static func parseAll(_ values: [String]) throws(BadQuery) -> [AttributeCondition] {
        let given = values.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard given.count <= maxCount else {
            throw BadQuery(message: "at most \(maxCount) attr conditions (got \(given.count))")
        }
        var conditions: [AttributeCondition] = []
        for value in given { conditions.append(try AttributeCondition(parsing: value)) }
        return conditions
    }

    /// A condition quoted in a message, cut short when long (the message stays short).
    private static func shown(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > 60 else { return text.debugDescription }
        return (String(String.UnicodeScalarView(scalars.prefix(60))) + "…").debugDescription
    }
}

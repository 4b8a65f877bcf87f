import Foundation

/// One condition of an attribute search on the trace list: a span attribute (or a
/// resource attribute of the span's process) compared with a value. A trace matches a
/// search when one of its spans meets every condition of it. The web layer reads
/// conditions from the URL (`attr=`), the store turns them into SQL with every key and
/// value bound as a parameter, and ``text`` writes one back as the URL spells it.
public struct AttributeCondition: Sendable, Equatable {
    /// Which of the span's two attribute maps the key is looked up in.
    public enum Scope: String, Sendable, CaseIterable {
        /// `spans.attributes`.
        case span
        /// The span's resource (`observability.resources`, or `spans.resource_attributes` on
        /// rows stored before migration 0018), written with the prefix ``AttributeCondition/resourcePrefix``.
        case resource
    }

    /// How the attribute is compared.
    public enum Comparison: Sendable, Equatable {
        /// The key is present and its value, as text (a JSON number or boolean as JSON
        /// writes it), is this one.
        case equals(String)
        /// The key is present and its value, as text, is another one (a span without the
        /// key does not match).
        case notEquals(String)
        /// The key is present, whatever its value.
        case exists
        /// The value is a JSON number greater than this one (a string never matches).
        case greaterThan(Double)
        /// The value is a JSON number less than this one (a string never matches).
        case lessThan(Double)
    }

    /// How a resource attribute's key is written in a condition: `resource:service.version=1.2`.
    public static let resourcePrefix = "resource:"

    public var scope: Scope
    public var key: String
    public var comparison: Comparison

    public init(scope: Scope, key: String, comparison: Comparison) {
        self.scope = scope
        self.key = key
        self.comparison = comparison
    }

    /// The condition as the URL's `attr` parameter writes it.
    public var text: String {
        let key = (scope == .resource ? Self.resourcePrefix : "") + quotedKey
        switch comparison {
        case .equals(let value): return "\(key)=\(value)"
        case .notEquals(let value): return "\(key)!=\(value)"
        case .exists: return "\(key) exists"
        case .greaterThan(let number): return "\(key)>\(Self.plain(number))"
        case .lessThan(let number): return "\(key)<\(Self.plain(number))"
        }
    }

    /// The key as a condition writes it: in double quotes (`""` for a quote) when read bare
    /// it would end early, lose spaces, or read as a resource attribute's.
    var quotedKey: String {
        let needsQuotes =
            key.contains(where: { "!=<>\"".contains($0) }) || key.hasPrefix(Self.resourcePrefix)
            || key.first?.isWhitespace == true || key.last?.isWhitespace == true || key.hasSuffix(" exists")
        guard needsQuotes else { return key }
        return "\"" + key.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A number without a needless `.0`, so `duration>250` reads back as written.
    static func plain(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

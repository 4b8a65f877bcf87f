import Foundation

/// One environment variable of the service: its key, what it means, the values it takes and
/// how it reaches ``ObservatoryConfiguration``. Declared once, in
/// ``ObservatoryConfiguration/settingGroups``; the loader, `.env.example` and
/// `docs/configuration.md` all read that table.
///
/// The default is not repeated here: it is the property's initial value in
/// ``ObservatoryConfiguration``, and the documents show it as ``defaultText``.
public struct Setting: Sendable {
    /// The values a setting takes: how it parses, and what the documents say about it.
    public enum Kind: Sendable, Equatable {
        /// A whole number in the range; `_` may separate digits.
        case integer(ClosedRange<Int>, Unit)
        /// A decimal number in the range.
        case number(ClosedRange<Double>)
        /// Seconds in the range, written as seconds or with a unit: `90`, `90s`, `15m`, `1h`, `1d`.
        case duration(ClosedRange<Int>)
        /// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
        case flag
        /// Free text; the associated value says what it is for the documents.
        case text(String)
        /// One of the words, in any case; stored lowercased.
        case choice([String])
        /// Comma-separated regular expressions, each matched against a whole path.
        case patterns
        /// Comma-separated host names or addresses.
        case hosts
        /// A PostgreSQL URL (``DatabaseURL``).
        case databaseURL
    }

    /// What a whole number counts, for the documents.
    public enum Unit: Sendable, Equatable {
        case none, bytes, seconds, milliseconds, days
    }

    /// The environment variable.
    public let key: String
    /// A variable read instead when ``key`` is unset or blank.
    public let alias: String?
    public let kind: Kind
    /// The property of ``ObservatoryConfiguration`` the value goes to.
    public let property: PartialKeyPath<ObservatoryConfiguration> & Sendable
    /// A name taken over from ContextForge's built-in observability, which declared it and
    /// never enforced it.
    public let fromContextForge: Bool
    /// A value shown in `.env.example` when the setting has no default.
    let example: String?
    /// A missing value is a problem for the commands that need the database.
    let requiredWithDatabase: Bool
    /// A set but blank value is read as a value (an empty list) instead of as unset.
    let blankIsAValue: Bool
    private let summaryText: @Sendable () -> String
    private let detailsText: @Sendable () -> String
    /// Parses the value of `key` (trimmed unless ``blankIsAValue``) into the configuration,
    /// returning one message per problem.
    private let assign: @Sendable (_ raw: String, _ key: String, _ configuration: inout ObservatoryConfiguration) -> [String]
    /// The property's value as it would be written in the environment; nil when unset.
    private let render: @Sendable (ObservatoryConfiguration) -> String?

    /// What the setting does, in a sentence or two of Markdown without links: the comment in
    /// `.env.example` and the start of the description in `docs/configuration.md`.
    public var summary: String { summaryText() }
    /// More Markdown for `docs/configuration.md` only; may be empty.
    public var details: String { detailsText() }

    /// The default as it would be written in the environment, from a fresh
    /// ``ObservatoryConfiguration``; nil when the setting is unset by default.
    public var defaultText: String? { render(ObservatoryConfiguration()) }

    /// The message when a required setting is missing.
    public var notSetProblem: String { "\(key)\(alias.map { " (or \($0))" } ?? "") is not set" }

    /// The value given for this setting: its variable and text, or nil when unset (or blank).
    func value(in environment: [String: String]) -> (key: String, raw: String)? {
        for name in [key] + (alias.map { [$0] } ?? []) {
            guard let raw = environment[name] else { continue }
            if blankIsAValue { return (name, raw) }
            let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return (name, trimmed) }
        }
        return nil
    }

    /// Reads this setting from `environment` into `configuration`; one message per problem.
    func read(
        from environment: [String: String], into configuration: inout ObservatoryConfiguration, requiringDatabase: Bool
    ) -> [String] {
        guard let (name, raw) = value(in: environment) else {
            return requiredWithDatabase && requiringDatabase ? [notSetProblem] : []
        }
        return assign(raw, name, &configuration)
    }

    /// Parses `raw` as this setting's value without a whole configuration around it.
    func problems(parsing raw: String) -> [String] {
        var scratch = ObservatoryConfiguration()
        return assign(raw, key, &scratch)
    }

    private init<Value>(
        _ key: String, alias: String? = nil, _ path: WritableKeyPath<ObservatoryConfiguration, Value> & Sendable,
        kind: Kind, fromContextForge: Bool, example: String? = nil, requiredWithDatabase: Bool = false,
        blankIsAValue: Bool = false, summary: @escaping @Sendable () -> String, details: @escaping @Sendable () -> String,
        parse: @escaping @Sendable (_ raw: String, _ key: String) -> Result<Value, ObservatoryConfiguration.Invalid>,
        render: @escaping @Sendable (Value) -> String?
    ) {
        self.key = key
        self.alias = alias
        self.kind = kind
        self.property = path
        self.fromContextForge = fromContextForge
        self.example = example
        self.requiredWithDatabase = requiredWithDatabase
        self.blankIsAValue = blankIsAValue
        self.summaryText = summary
        self.detailsText = details
        self.assign = { raw, key, configuration in
            switch parse(raw, key) {
            case .success(let value):
                configuration[keyPath: path] = value
                return []
            case .failure(let invalid):
                return invalid.problems
            }
        }
        self.render = { render($0[keyPath: path]) }
    }
}

// MARK: - Constructors, one per kind

extension Setting {
    /// Summary and details are evaluated when read, so they may name other settings with
    /// ``ObservatoryConfiguration/key(for:)`` without the table reading itself while it is built.
    typealias Text = @Sendable () -> String

    static func integer(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, Int> & Sendable, in range: ClosedRange<Int>,
        _ unit: Unit = .none, fromContextForge: Bool = false, summary: @autoclosure @escaping Text,
        details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .integer(range, unit), fromContextForge: fromContextForge, summary: summary, details: details,
            parse: { raw, key in
                guard let value = Int(raw.replacingOccurrences(of: "_", with: "")), range.contains(value) else {
                    return .failure(
                        .init(problems: [
                            "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\""
                        ]))
                }
                return .success(value)
            },
            render: { String($0) })
    }

    static func number(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, Double> & Sendable,
        in range: ClosedRange<Double>, summary: @autoclosure @escaping Text, details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .number(range), fromContextForge: false, summary: summary, details: details,
            parse: { raw, key in
                guard let value = Double(raw), value.isFinite, range.contains(value) else {
                    return .failure(
                        .init(problems: [
                            "\(key) must be a number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\""
                        ]))
                }
                return .success(value)
            },
            render: { String($0) })
    }

    /// Seconds from `90`, `90s`, `15m`, `1h` or `1d`.
    static func duration(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, Int> & Sendable, in range: ClosedRange<Int>,
        fromContextForge: Bool = false, summary: @autoclosure @escaping Text, details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .duration(range), fromContextForge: fromContextForge, summary: summary, details: details,
            parse: { raw, key in
                let unit = raw.last.flatMap { durationUnits[Character($0.lowercased())] }
                let digits = unit == nil ? Substring(raw) : raw.dropLast()
                let (seconds, overflow) = (Int(digits) ?? -1).multipliedReportingOverflow(by: unit ?? 1)
                guard !overflow, range.contains(seconds) else {
                    return .failure(
                        .init(problems: [
                            "\(key) must be a duration from \(describe(seconds: range.lowerBound)) to \(describe(seconds: range.upperBound)), such as 30s, 15m, 1h or 1d, got \"\(raw)\""
                        ]))
                }
                return .success(seconds)
            },
            render: { seconds in
                let unit = durationUnits.filter { seconds % $0.value == 0 }.max { $0.value < $1.value }
                return unit.map { "\(seconds / $0.value)\($0.key)" } ?? String(seconds)
            })
    }

    static func flag(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, Bool> & Sendable, fromContextForge: Bool = false,
        summary: @autoclosure @escaping Text, details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .flag, fromContextForge: fromContextForge, summary: summary, details: details,
            parse: { raw, key in
                switch raw.lowercased() {
                case "true", "1", "yes", "on": return .success(true)
                case "false", "0", "no", "off": return .success(false)
                default: return .failure(.init(problems: ["\(key) must be true or false, got \"\(raw)\""]))
                }
            },
            render: { String($0) })
    }

    static func text(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, String> & Sendable, format: String,
        summary: @autoclosure @escaping Text, details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .text(format), fromContextForge: false, summary: summary, details: details,
            parse: { raw, _ in .success(raw) }, render: { $0 })
    }

    /// Free text that is nil when unset.
    static func optionalText(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, String?> & Sendable, format: String,
        summary: @autoclosure @escaping Text, details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .text(format), fromContextForge: false, summary: summary, details: details,
            parse: { raw, _ in .success(raw) }, render: { $0 })
    }

    /// One of `words`, in any case, stored lowercased.
    static func choice(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, String> & Sendable, among words: [String],
        summary: @autoclosure @escaping Text, details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .choice(words), fromContextForge: false, summary: summary, details: details,
            parse: { raw, key in
                guard words.contains(raw.lowercased()) else {
                    return .failure(
                        .init(problems: ["\(key) must be one of \(words.joined(separator: ", ")), got \"\(raw)\""]))
                }
                return .success(raw.lowercased())
            },
            render: { $0 })
    }

    /// Comma-separated regular expressions, each checked as the service compiles it: anchored
    /// to match a whole path. A set but empty value is an empty list.
    static func patterns(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, [String]> & Sendable,
        summary: @autoclosure @escaping Text,
        details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .patterns, fromContextForge: false, blankIsAValue: true, summary: summary, details: details,
            parse: { raw, key in
                let patterns = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
                let problems = patterns.filter { (try? NSRegularExpression(pattern: "^(?:\($0))$")) == nil }.map {
                    "\(key): \"\($0)\" is not a valid regular expression"
                }
                return problems.isEmpty ? .success(patterns) : .failure(.init(problems: problems))
            },
            render: { $0.isEmpty ? nil : $0.joined(separator: ",") })
    }

    /// Host names from a comma-separated list, lowercased, without a trailing dot; an
    /// unbracketed IPv6 address is bracketed as it appears in a `Host` header. One problem
    /// per entry that is not a bare host (a scheme, a path, a port).
    static func hosts(
        _ key: String, _ path: WritableKeyPath<ObservatoryConfiguration, [String]> & Sendable, example: String,
        summary: @autoclosure @escaping Text, details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, path, kind: .hosts, fromContextForge: false, example: example, summary: summary, details: details,
            parse: { raw, key in
                var hosts: [String] = []
                var problems: [String] = []
                for entry in raw.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() })
                where !entry.isEmpty {
                    var host = entry.hasSuffix(".") && entry.count > 1 ? String(entry.dropLast()) : entry
                    let colons = host.filter { $0 == ":" }.count
                    if colons > 1, !host.hasPrefix("[") { host = "[\(host)]" }
                    let bracketed = host.hasPrefix("[") && host.hasSuffix("]")
                    let allowed = host.unicodeScalars.allSatisfy {
                        CharacterSet.alphanumerics.contains($0) || "-._[]:".unicodeScalars.contains($0)
                    }
                    guard allowed, host != ".", bracketed || colons == 0 else {
                        problems.append(
                            "\(key): \"\(entry)\" is not a host name; give names or addresses such as observatory.example.com or 10.0.0.5, without scheme, port or path"
                        )
                        continue
                    }
                    hosts.append(host)
                }
                if hosts.isEmpty, problems.isEmpty {
                    problems.append("\(key) lists no host; leave it unset to accept every host")
                }
                return problems.isEmpty ? .success(hosts) : .failure(.init(problems: problems))
            },
            render: { $0.isEmpty ? nil : $0.joined(separator: ",") })
    }

    /// A PostgreSQL URL, read from `alias` (if any) when `key` is unset or blank, and reported
    /// under the name of the variable it came from. `required`: a missing value is a problem for
    /// the commands that need the database (the primary); an optional one (the read replica)
    /// may be left unset.
    static func databaseURL(
        _ key: String, alias: String? = nil, _ path: WritableKeyPath<ObservatoryConfiguration, DatabaseURL?> & Sendable,
        required: Bool = true, example: String, summary: @autoclosure @escaping Text,
        details: @autoclosure @escaping Text = ""
    ) -> Setting {
        Setting(
            key, alias: alias, path, kind: .databaseURL, fromContextForge: false, example: example,
            requiredWithDatabase: required, summary: summary, details: details,
            parse: { raw, key in
                do throws(DatabaseURL.ParseError) {
                    return .success(try DatabaseURL(parsing: raw))
                } catch {
                    return .failure(.init(problems: ["\(key) is not a usable PostgreSQL URL: \(error.reason)"]))
                }
            },
            render: { $0?.redactedDescription })
    }

    /// Seconds per unit letter of a duration.
    static let durationUnits: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]

    /// A bound of a duration range in the largest unit that divides it: `1 s`, `1 h`, `7 days`.
    static func describe(seconds: Int) -> String {
        if seconds >= 86_400, seconds % 86_400 == 0 { return seconds == 86_400 ? "1 day" : "\(seconds / 86_400) days" }
        if seconds >= 3_600, seconds % 3_600 == 0 { return "\(seconds / 3_600) h" }
        if seconds >= 60, seconds % 60 == 0 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }
}

/// Settings that belong together, as the documents show them: a heading, an optional
/// paragraph before and after the table, and the checks that span several of its settings.
public struct SettingGroup: Sendable {
    public let title: String
    public let settings: [Setting]
    let rules: [SettingRule]
    private let introText: @Sendable () -> String
    private let notesText: @Sendable () -> String

    /// Markdown before the group's table in `docs/configuration.md`; may be empty.
    public var intro: String { introText() }
    /// Markdown after the group's table in `docs/configuration.md`; may be empty.
    public var notes: String { notesText() }

    init(
        _ title: String, intro: @autoclosure @escaping Setting.Text = "", notes: @autoclosure @escaping Setting.Text = "",
        rules: [SettingRule] = [],
        _ settings: [Setting]
    ) {
        self.title = title
        self.settings = settings
        self.rules = rules
        self.introText = intro
        self.notesText = notes
    }
}

/// A check on settings already read (two that must agree, a character a value must not
/// hold), run after its group and stated in the documents beside its subject.
struct SettingRule: Sendable {
    /// The setting whose "range / format" the statement is added to.
    let subject: PartialKeyPath<ObservatoryConfiguration> & Sendable
    let statementText: @Sendable () -> String
    let check: @Sendable (ObservatoryConfiguration) -> String?

    var statement: String { statementText() }

    init(
        _ subject: PartialKeyPath<ObservatoryConfiguration> & Sendable, _ statement: @autoclosure @escaping Setting.Text,
        check: @escaping @Sendable (ObservatoryConfiguration) -> String?
    ) {
        self.subject = subject
        self.statementText = statement
        self.check = check
    }
}

import Foundation

/// Renders `.env.example` and the settings table of `docs/configuration.md` from
/// ``ObservatoryConfiguration/settingGroups``, so the documents list exactly the settings the
/// loader reads, with the defaults it uses. `ConfigurationDocsTests` compares the committed
/// files with this text; `make config-docs` writes them.
public enum ConfigurationDocs {
    /// Where the table is declared, for the generated files' notices.
    static let source = "Sources/ObservatoryConfiguration/ObservatoryConfiguration+settings.swift"
    /// The lines that enclose the generated part of `docs/configuration.md`.
    public static let beginMarker =
        "<!-- BEGIN settings: generated from \(source) by `make config-docs`; edit the table there, not here -->"
    public static let endMarker = "<!-- END settings -->"

    /// The whole of `.env.example`.
    public static func envExample() -> String {
        let blankIsAValue = ObservatoryConfiguration.settings.filter(\.blankIsAValue).map(\.key)
        let preamble = [
            "MCP Observatory settings, with their defaults. docs/configuration.md explains each one. Generated from "
                + "\(source) by `make config-docs`: change the table there, not this file.",
            "",
            "The service reads only its environment; it does not load this file. Copy it to .env, uncomment what you "
                + "change, and load it with `set -a; . ./.env; set +a`, as a systemd EnvironmentFile= or with "
                + "`docker run --env-file .env` (values must then need no quoting: no spaces, no &). A variable that "
                + "is unset or blank takes its default"
                + (blankIsAValue.isEmpty
                    ? "."
                    : ", except \(blankIsAValue.joined(separator: ", ")), where an empty value is an empty list.")
                + " Every value is checked at startup; all problems are reported at once, one line each, and the "
                + "process exits with status 78.",
            "",
            "Formats: whole numbers may use _ as a separator (16_777_216); booleans accept true/false, 1/0, yes/no, "
                + "on/off; durations are seconds or a number with s, m, h or d (90, 15m, 1h). A \"ContextForge seed "
                + "setting\" keeps the name ContextForge's built-in observability gave it, which it declared and "
                + "never enforced; here it takes effect.",
        ]
        var lines = preamble.flatMap { $0.isEmpty ? ["#"] : comment($0) }
        for group in ObservatoryConfiguration.settingGroups {
            let heading = "# --- \(group.title) "
            lines += ["", heading + String(repeating: "-", count: max(3, width - heading.count))]
            for setting in group.settings {
                lines.append("")
                lines += comment(([setting.summary] + setting.aliasSentence + setting.seedSentence).joined(separator: " "))
                if setting.kind != .flag { lines += comment("Values: \(setting.format).") }
                lines.append("# \(setting.key)=\(setting.defaultText ?? setting.example ?? "")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The generated part of `docs/configuration.md`, markers included: a heading, an
    /// optional intro, a table and optional notes per group.
    public static func markdownTable() -> String {
        var blocks = [beginMarker]
        for group in ObservatoryConfiguration.settingGroups {
            blocks.append("### \(group.title)")
            if !group.intro.isEmpty { blocks.append(paragraph(group.intro)) }
            let rows = group.settings.map { setting in
                let effect =
                    [setting.summary] + setting.aliasSentence + (setting.details.isEmpty ? [] : [setting.details])
                    + setting.seedSentence.map { "*\($0)*" }
                let cells = [
                    "`\(setting.key)`", setting.defaultCell, setting.format, effect.joined(separator: " "),
                ]
                return "| " + cells.map(cell).joined(separator: " | ") + " |"
            }
            blocks.append(
                (["| variable | default | range / format | effect |", "| --- | --- | --- | --- |"] + rows)
                    .joined(separator: "\n"))
            if !group.notes.isEmpty { blocks.append(paragraph(group.notes)) }
        }
        blocks.append(endMarker)
        return blocks.joined(separator: "\n\n")
    }

    /// The markers were not found, or not in order.
    public struct MissingMarkers: Error, CustomStringConvertible {
        public var description: String {
            "docs/configuration.md must hold a line \(ConfigurationDocs.beginMarker) and later a line \(ConfigurationDocs.endMarker)"
        }
    }

    /// `document` (the text of `docs/configuration.md`) with the part between the markers
    /// replaced by ``markdownTable()``; the hand-written text around it is kept as it is.
    public static func configurationMarkdown(updating document: String) throws(MissingMarkers) -> String {
        var lines = document.components(separatedBy: "\n")
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("<!-- BEGIN settings") }),
            let end = lines[begin...].firstIndex(of: endMarker)
        else { throw MissingMarkers() }
        lines.replaceSubrange(begin...end, with: markdownTable().components(separatedBy: "\n"))
        return lines.joined(separator: "\n")
    }

    // MARK: Text helpers

    /// Columns of `.env.example`.
    static let width = 90

    /// `text` as `# ` comment lines of at most ``width`` columns.
    static func comment(_ text: String) -> [String] {
        wrap(text, width: width - 2).map { $0.isEmpty ? "#" : "# \($0)" }
    }

    /// `text` in lines of at most `width` columns (a longer word stands alone), broken
    /// between words but not inside a `code span`.
    static func wrap(_ text: String, width: Int) -> [String] {
        var words: [String] = []
        for word in text.split(separator: " ").map(String.init) {
            if let last = words.last, last.filter({ $0 == "`" }).count % 2 == 1 {
                words[words.count - 1] += " " + word
            } else {
                words.append(word)
            }
        }
        var lines: [String] = []
        var line = ""
        for word in words {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? word : " \(word)"
        }
        lines.append(line)
        return lines
    }

    /// A Markdown paragraph wrapped as the hand-written ones are.
    static func paragraph(_ text: String) -> String {
        wrap(text, width: width).joined(separator: "\n")
    }

    /// A Markdown table cell: a `|` would end it.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    /// `bytes` in the largest binary unit that divides it: `1 KiB`, `16 MiB`.
    static func binarySize(_ bytes: Int) -> String {
        for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes % size == 0 {
            return "\(bytes / size) \(unit)"
        }
        return "\(bytes) bytes"
    }
}

extension Setting {
    /// The values the setting takes, with the rules that concern it, in Markdown without links.
    public var format: String {
        let base: String
        switch kind {
        case .integer(let range, let unit):
            let bounds = "\(range.lowerBound)–\(range.upperBound)"
            switch unit {
            case .none: base = bounds
            case .bytes:
                base =
                    "\(bounds) bytes (\(ConfigurationDocs.binarySize(range.lowerBound))–\(ConfigurationDocs.binarySize(range.upperBound)))"
            case .seconds: base = "\(bounds) s"
            case .milliseconds: base = "\(bounds) ms"
            case .days: base = "\(bounds) days"
            }
        case .number(let range):
            base = "\(range.lowerBound)–\(range.upperBound)"
        case .duration(let range):
            base =
                "\(Self.describe(seconds: range.lowerBound))–\(Self.describe(seconds: range.upperBound)): seconds, or a number with `s`, `m`, `h` or `d`"
        case .flag:
            base = "boolean"
        case .text(let format):
            base = format
        case .choice(let words):
            base = words.map { "`\($0)`" }.joined(separator: ", ") + ", any case"
        case .patterns:
            base =
                "comma-separated regular expressions (ICU syntax, as `NSRegularExpression`); spaces around entries are trimmed; a pattern cannot contain a comma"
        case .hosts:
            base =
                "comma-separated host names or IP addresses, without scheme, port or path; `.example.com` also matches every subdomain; IPv6 with or without brackets"
        case .databaseURL:
            base =
                "a `postgres://` or `postgresql://` URL; `?sslmode=disable|prefer|require` (default `prefer`); `?host=/socket/dir` for a Unix socket"
        }
        let rules = ObservatoryConfiguration.settingGroups.flatMap(\.rules).filter { $0.subject == property }
        return ([base] + rules.map(\.statement)).joined(separator: "; ")
    }

    /// The default column of the documents' table.
    var defaultCell: String {
        guard let text = defaultText else { return "unset" }
        if case .integer(_, .bytes) = kind, let bytes = Int(text) {
            return "`\(text)` (\(ConfigurationDocs.binarySize(bytes)))"
        }
        return "`\(text)`"
    }

    /// The sentence that names the fallback variable, if any.
    var aliasSentence: [String] {
        alias.map { ["`\($0)` is read instead when `\(key)` is unset or blank."] } ?? []
    }

    var seedSentence: [String] { fromContextForge ? ["ContextForge seed setting."] : [] }
}

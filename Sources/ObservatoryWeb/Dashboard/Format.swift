import Foundation

/// How numbers and times read on the pages: one place, so every page agrees.
enum Format {
    /// "–" for a duration that was not measured (no side of that kind recorded).
    static func duration(_ ms: Double?) -> String {
        ms.map { duration($0) } ?? "–"
    }

    /// `0.42 ms`, `12.3 ms`, `845 ms`, `1.24 s`, `2 m 5 s`. Integer arithmetic rather than
    /// String(format:), which was a tenth of a 1,000-span trace page. Total: a duration of
    /// any size (a query's `min_ms`, a row written by SQL) reads as a number, never traps.
    static func duration(_ ms: Double) -> String {
        guard ms.isFinite else { return "–" }
        if ms < 10 { return decimals(ms, 2) + " ms" }
        if ms < 100 { return decimals(ms, 1) + " ms" }
        if ms < 1_000 { return decimals(ms, 0) + " ms" }
        if ms < 60_000 { return decimals(ms / 1_000, 2) + " s" }
        let seconds = (ms / 1_000).rounded()
        guard seconds < exactLimit else { return String(seconds) + " s" }
        let whole = Int64(seconds)
        return "\(whole / 60) m \(whole % 60) s"
    }

    /// Below this magnitude a `Double` converts to `Int64` exactly and without trapping.
    static let exactLimit = 1e15

    /// `value` rounded to `places` decimals (0–2), as `%.Nf` writes it; values too large
    /// (or not finite) for integer arithmetic as Swift writes them.
    static func decimals(_ value: Double, _ places: Int) -> String {
        let scale = places == 2 ? 100 : places == 1 ? 10 : 1
        let rounded = (abs(value) * Double(scale)).rounded()
        guard rounded < exactLimit else { return String(value) }  // also NaN and ±infinity
        let scaled = Int64(rounded)
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard places > 0 else { return sign + String(scaled) }
        let fraction = String(scaled % Int64(scale))
        return sign + String(scaled / Int64(scale)) + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// `4.1 %`; one decimal, so 4.96 % does not read as the 5 % threshold.
    static func percent(_ value: Double) -> String {
        String(format: "%.1f %%", value)
    }

    /// `12,345`.
    static func count(_ value: Int) -> String {
        var digits = String(value.magnitude)
        var groups: [Substring] = []
        while digits.count > 3 {
            groups.insert(digits.suffix(3), at: 0)
            digits.removeLast(3)
        }
        groups.insert(Substring(digits), at: 0)
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    /// `2026-11-25 14:03:07 UTC`: operators compare with logs, which are in UTC.
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0,
            c.second ?? 0)
    }

    /// `3 min ago`, for "computed at" lines.
    static func age(_ date: Date, now: Date = Date()) -> String {
        let elapsed = now.timeIntervalSince(date)
        let seconds: Int64 = elapsed > 0 ? Int64(min(elapsed, exactLimit)) : 0  // NaN fails the test
        if seconds < 60 { return "\(seconds) s ago" }
        if seconds < 3_600 { return "\(seconds / 60) min ago" }
        if seconds < 86_400 { return "\(seconds / 3_600) h ago" }
        return "\(seconds / 86_400) d ago"
    }

    /// A number without a trailing `.0`, for URLs.
    static func plainNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < exactLimit ? String(Int64(value)) : String(value)
    }
}

/// JSON for a `<script type="application/json">` element. JSON may hold `</script>` or
/// `<!--` inside strings (span names are attacker-controlled); escaping `<`, `>` and `&`
/// as \u escapes keeps the element closed where the page closes it, and the parsed value
/// unchanged. U+2028/2029 are escaped for old JavaScript parsers.
enum ScriptJSON {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let json = try APIJSON.encoder().encode(value)
        var escaped: [UInt8] = []
        escaped.reserveCapacity(json.count + json.count / 16)
        var index = json.startIndex
        while index < json.endIndex {
            let byte = json[index]
            switch byte {
            case UInt8(ascii: "<"): escaped.append(contentsOf: Array(#"\u003c"#.utf8))
            case UInt8(ascii: ">"): escaped.append(contentsOf: Array(#"\u003e"#.utf8))
            case UInt8(ascii: "&"): escaped.append(contentsOf: Array(#"\u0026"#.utf8))
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
            case 0xE2
            where index + 2 < json.endIndex && json[index + 1] == 0x80 && (json[index + 2] == 0xA8 || json[index + 2] == 0xA9):
                escaped.append(contentsOf: Array((json[index + 2] == 0xA8 ? #"\u2028"# : #"\u2029"#).utf8))
                index += 2
            default: escaped.append(byte)
            }
            index += 1
        }
        return String(decoding: escaped, as: UTF8.self)
    }
}

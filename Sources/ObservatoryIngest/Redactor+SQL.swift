/// How a statement's text is read, decided by the database system the span names
/// (`db.system.name`, or the older `db.system`). Rule 3 of docs/redaction.md.
struct SQLDialect: Sendable, Equatable {
    /// `"…"` names a table or column (standard SQL, PostgreSQL) and stays; otherwise it is a
    /// string literal (MySQL, MariaDB, SQLite, Redis) and becomes `?`. A system not known to
    /// quote names so gets the safe reading: literal.
    var doubleQuotesName: Bool
    /// `#` starts a comment up to the end of the line (MySQL, MariaDB).
    var hashComments: Bool
    /// The text holds Redis commands: the arguments of `AUTH` are a password.
    var redisCommands: Bool

    /// Systems whose `"…"` is a name (values of `db.system.name` and of the older `db.system`).
    static let nameQuotingSystems: Set<String> = [
        "postgresql", "cockroachdb", "microsoft.sql_server", "mssql", "oracle.db", "oracle", "ibm.db2", "db2",
        "h2database", "h2", "derby", "hsqldb", "trino", "snowflake", "aws.redshift", "redshift",
    ]
    static let hashCommentSystems: Set<String> = ["mysql", "mariadb"]
    static let redisSystems: Set<String> = ["redis", "valkey"]

    init(system: String?) {
        guard let system else {
            self.init(doubleQuotesName: false, hashComments: false, redisCommands: false)
            return
        }
        self = Self.known[system] ?? Self.known[system.lowercased()] ?? SQLDialect(system: nil)
    }

    private init(doubleQuotesName: Bool, hashComments: Bool, redisCommands: Bool) {
        self.doubleQuotesName = doubleQuotesName
        self.hashComments = hashComments
        self.redisCommands = redisCommands
    }

    /// The dialect of every system named above, found with one lookup per statement (a
    /// statement of a system written in lower case, as the conventions write them, needs no
    /// lower-casing).
    private static let known: [String: SQLDialect] = Dictionary(
        uniqueKeysWithValues: (nameQuotingSystems.union(hashCommentSystems).union(redisSystems)).map { system in
            (
                system,
                SQLDialect(
                    doubleQuotesName: nameQuotingSystems.contains(system), hashComments: hashCommentSystems.contains(system),
                    redisCommands: redisSystems.contains(system))
            )
        })
}

/// Replaces the literals of a SQL statement with `?`: quoted strings (also `E'…'` and
/// dollar-quoted), numbers, and comments (removed: they can hold anything). Identifiers,
/// quoted identifiers (where the dialect has them) and `$1` parameters stay, so the
/// statement still reads. Redis `AUTH` loses its arguments.
///
/// One pass over the bytes; every inner loop moves the same index forward, and the search
/// for a closing `$tag$` compares at most a tag's length at each `$` (a tag has no `$` inside,
/// so a failed comparison never overlaps the next), so the time is linear in the statement.
enum SQLLiteralStripper {
    static func strip(_ sql: String, dialect: SQLDialect = SQLDialect(system: nil)) -> String {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func isIdentifierByte(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x5F || byte == 0x24 || byte >= 0x80
        }
        /// Skips a quoted literal that starts at `index` (the quote), with backslash escapes
        /// and a doubled quote inside; leaves `index` after its closing quote.
        func skipQuoted(_ quote: UInt8) {
            index += 1
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    index += 2
                    continue
                }
                if bytes[index] == quote {
                    if index + 1 < bytes.count && bytes[index + 1] == quote {
                        index += 2
                        continue
                    }
                    break
                }
                index += 1
            }
            index += 1
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"):
                // Drop a one-letter prefix such as E'…' or X'…' that was already copied.
                if let last = out.last,
                    (last | 0x20) == UInt8(ascii: "e") || (last | 0x20) == UInt8(ascii: "x")
                        || (last | 0x20) == UInt8(ascii: "b") || (last | 0x20) == UInt8(ascii: "n"),
                    out.count < 2 || !isIdentifierByte(out[out.count - 2])
                {
                    out.removeLast()
                }
                skipQuoted(byte)
                out.append(UInt8(ascii: "?"))
            case UInt8(ascii: "\"") where !dialect.doubleQuotesName:
                skipQuoted(byte)
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
                    let tag = bytes[index...tagEnd]
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
            case UInt8(ascii: "#") where dialect.hashComments:
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
                    let isDigitLike =
                        (next >= 0x30 && next <= 0x39) || next == UInt8(ascii: ".") || next == UInt8(ascii: "_")
                        || (next | 0x20) == UInt8(ascii: "e") || (next | 0x20) == UInt8(ascii: "x")
                        || ((next | 0x20) >= UInt8(ascii: "a") && (next | 0x20) <= UInt8(ascii: "f"))
                    let isExponentSign =
                        (next == UInt8(ascii: "+") || next == UInt8(ascii: "-"))
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
        if dialect.redisCommands || RedisAuth.startsWithAuth(out) { out = RedisAuth.hidingArguments(out) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Redis `AUTH [user] password` (also inside `HELLO … AUTH user password`, and `AUTH2` of
/// `MIGRATE`): everything after the word up to the end of its line becomes one `?`. Applied
/// to statements of Redis and Valkey spans, and to any statement that starts with `AUTH` (no
/// SQL statement does); in SQL, `auth` is an ordinary name.
enum RedisAuth {
    static func startsWithAuth(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return false }
        let end = bytes[first...].firstIndex(where: isSpace) ?? bytes.count
        return isAuthWord(bytes[first..<end])
    }

    /// One pass: words are runs of non-space bytes; after an `AUTH` word the rest of its line
    /// becomes ` ?`.
    static func hidingArguments(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard !isSpace(bytes[index]) else {
                out.append(bytes[index])
                index += 1
                continue
            }
            let start = index
            index = bytes[start...].firstIndex(where: isSpace) ?? bytes.count
            out.append(contentsOf: bytes[start..<index])
            guard isAuthWord(bytes[start..<index]) else { continue }
            let lineEnd = bytes[index...].firstIndex { $0 == 0x0A || $0 == 0x0D } ?? bytes.count
            if bytes[index..<lineEnd].contains(where: { !isSpace($0) }) { out.append(contentsOf: " ?".utf8) }
            index = lineEnd
        }
        return out
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    static func isAuthWord(_ word: ArraySlice<UInt8>) -> Bool {
        guard word.count == 4 || word.count == 5 else { return false }
        let lower = word.map { $0 | 0x20 }
        return lower.elementsEqual("auth".utf8) || lower.elementsEqual("auth2".utf8)
    }
}

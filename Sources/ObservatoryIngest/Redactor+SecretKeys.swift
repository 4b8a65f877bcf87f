import Synchronization

/// Rule 1 of docs/redaction.md: which attribute keys (and `name=value` names) name a secret.
extension Redactor {
    /// Words that make a key secret wherever they stand in it, as a whole word
    /// (`http.request.header.authorization`, `x-auth-token`, `client_secret`, `x-authentication`).
    static let secretWords: Set<String> = [
        "authorization", "authentication", "cookie", "cookies", "password", "passwd", "pwd", "passphrase", "secret",
        "token", "apikey", "credential", "credentials", "jwt", "bearer", "privatekey", "signature",
    ]
    /// Fragments that make a key secret even inside a longer word (`XAPIKey`, `dbpassword`).
    static let secretFragments: [[UInt8]] = ["apikey", "password", "passwd", "authorization", "credential"].map { Array($0.utf8) }
    /// Endings that make a one-word key secret (`accesstoken`, `x-authtoken`, `clientsecret`).
    /// `tokens` (a count) and `tokenizer` do not end so.
    static let secretSuffixes: [[UInt8]] = ["token", "secret"].map { Array($0.utf8) }
    /// Adjacent word pairs that make a key secret (`x-api-key`, `private_key`, `accessKey`).
    static let secretPairs: Set<String> = ["api key", "private key", "access key", "secret key", "session key"]

    /// Whether `key` names a secret. Keys are split into words at punctuation and at
    /// camelCase humps, so `input_tokens` (a count) is not a secret but `auth_token` is.
    /// Time linear in the key's length; keys up to `KeyFactsCache.maxKeyBytes` are remembered.
    public static func isSecret(key: String) -> Bool {
        keyFacts.withLock { $0.facts(of: key) }.secret
    }

    /// Attribute keys repeat across spans, so each is judged once: split into words, looked
    /// up among the known keys and the statement and query keys.
    static let keyFacts = Mutex(KeyFactsCache())

    /// Bytes the key-facts cache holds now, for the tests of its bound.
    static var keyFactsCacheBytes: Int { keyFacts.withLock { $0.bytes } }

    /// One pass over the key's scalars: each word is judged as it ends, against the word
    /// before it for the pairs. ASCII, nearly every key, needs no lookup of Unicode properties.
    static func splitsIntoSecretWords(_ key: String) -> Bool {
        var previous = ""
        var current = ""
        var previousWasLower = false
        var secret = false

        func endWord() {
            guard !current.isEmpty else { return }
            if !secret, isSecret(word: current, after: previous) { secret = true }
            previous = current
            current = ""
        }

        for scalar in key.unicodeScalars {
            let isLetterOrDigit: Bool
            let isUpper: Bool
            if scalar.isASCII {
                let value = scalar.value
                isUpper = value >= 0x41 && value <= 0x5A
                isLetterOrDigit = isUpper || (value >= 0x61 && value <= 0x7A) || (value >= 0x30 && value <= 0x39)
            } else {
                isUpper = scalar.properties.isUppercase
                isLetterOrDigit = scalar.properties.isAlphabetic
            }
            if !isLetterOrDigit {
                endWord()
                previousWasLower = false
                continue
            }
            if isUpper && previousWasLower { endWord() }
            if !isUpper {
                current.unicodeScalars.append(scalar)
            } else if scalar.isASCII {
                current.unicodeScalars.append(Unicode.Scalar(UInt8(scalar.value) | 0x20))
            } else {
                current += scalar.properties.lowercaseMapping
            }
            previousWasLower = !isUpper
            if secret { return true }
        }
        endWord()
        return secret
    }

    /// Whether one lower-case word, after `previous`, makes its key secret.
    private static func isSecret(word: String, after previous: String) -> Bool {
        if secretWords.contains(word) { return true }
        let bytes = Array(word.utf8)
        if secretFragments.contains(where: { bytes.containsRun($0) }) { return true }
        if secretSuffixes.contains(where: { bytes.count > $0.count && bytes.suffix($0.count).elementsEqual($0) }) { return true }
        return !previous.isEmpty && secretPairs.contains(previous + " " + word)
    }
}

/// What ingest needs to know of an attribute key, judged once per distinct key.
struct KeyFacts: Sendable {
    /// Its ``KnownKey``'s raw value, or -1.
    var known: Int32
    /// Its value is a secret (rule 1 of docs/redaction.md).
    var secret: Bool
    /// Its value is a database statement (``Redactor/statementKeys``).
    var statement: Bool
    /// Its value is a query string (``Redactor/queryStringKeys``).
    var query: Bool
    /// It holds NUL, which PostgreSQL text cannot store.
    var nul: Bool
    /// Its length in UTF-8 bytes, against which the redactor's length limit is checked.
    var bytes: Int

    init(of key: String) {
        known = KnownKeys.byName[key].map { Int32($0.rawValue) } ?? -1
        secret = Redactor.splitsIntoSecretWords(key)
        statement = Redactor.statementKeys.contains(key)
        query = Redactor.queryStringKeys.contains(key)
        nul = Redactor.scan(key).nul
        bytes = key.utf8.count
    }
}

/// The remembered ``KeyFacts``, bounded by bytes: a client choosing a new key per span must
/// not grow the process (issue 9: 40 keys of 4 MB kept 160 MB). Keys longer than
/// `maxKeyBytes` are judged every time and never kept; when the kept keys reach `maxBytes`
/// the cache starts over.
///
/// An open-addressing table under an FNV-1a hash of the key's bytes rather than a
/// `Dictionary`: every attribute of every span is looked up here, and the standard
/// library's seeded SipHash cost more than the rest of the lookup. Keys are matched by
/// `String` equality, so the facts are those a dictionary would give. The hash is not
/// seeded, so a client can choose keys that collide; a key is therefore looked for in at
/// most `maxProbes` slots and, if none is free there, judged without being kept. A lookup
/// never costs more than that, however the keys were chosen.
struct KeyFactsCache {
    /// Longest key kept: the ingest limit on attribute keys, so every key a span may carry.
    static let maxKeyBytes = IngestLimits.maxAttributeKeyBytes
    /// The most the cache holds, counting each key's bytes and `entryOverhead`.
    static let maxBytes = 2 * 1_024 * 1_024
    /// What an entry costs besides its key's bytes: the table's slots and string header.
    static let entryOverhead = 64
    /// Slots of an empty table; it doubles when half full.
    static let initialSlots = 256
    /// The most slots one lookup or insertion reads.
    static let maxProbes = 8

    /// Per slot, the key's hash with its lowest bit set, or 0 for an empty slot.
    private var hashes = [UInt64](repeating: 0, count: initialSlots)
    private var keys = [String](repeating: "", count: initialSlots)
    private var slotFacts = [KeyFacts?](repeating: nil, count: initialSlots)
    private(set) var count = 0
    private(set) var bytes = 0

    /// The facts of `key`, remembered when it is short enough.
    mutating func facts(of key: String) -> KeyFacts {
        let hash = Self.hash(key)
        var slot = Int(truncatingIfNeeded: hash >> 1) & (hashes.count - 1)
        for _ in 0..<Self.maxProbes {
            guard hashes[slot] != 0 else { break }
            if hashes[slot] == hash, keys[slot] == key, let facts = slotFacts[slot] { return facts }
            slot = (slot + 1) & (hashes.count - 1)
        }
        let facts = KeyFacts(of: key)
        guard facts.bytes <= Self.maxKeyBytes else { return facts }
        let cost = facts.bytes + Self.entryOverhead
        if bytes + cost > Self.maxBytes {
            self = KeyFactsCache()
        } else if (count + 1) * 2 > hashes.count {
            grow()
        }
        if insert(key, hash: hash, facts: facts) { bytes += cost }
        return facts
    }

    /// Places a key known to be absent in the first free slot of its `maxProbes`; false
    /// when there is none, and the key is not kept.
    @discardableResult
    private mutating func insert(_ key: String, hash: UInt64, facts: KeyFacts) -> Bool {
        var slot = Int(truncatingIfNeeded: hash >> 1) & (hashes.count - 1)
        for _ in 0..<Self.maxProbes {
            if hashes[slot] == 0 {
                hashes[slot] = hash
                keys[slot] = key
                slotFacts[slot] = facts
                count += 1
                return true
            }
            slot = (slot + 1) & (hashes.count - 1)
        }
        return false
    }

    private mutating func grow() {
        let (oldHashes, oldKeys, oldFacts) = (hashes, keys, slotFacts)
        hashes = [UInt64](repeating: 0, count: oldHashes.count * 2)
        keys = [String](repeating: "", count: oldHashes.count * 2)
        slotFacts = [KeyFacts?](repeating: nil, count: oldHashes.count * 2)
        count = 0
        for slot in oldHashes.indices where oldHashes[slot] != 0 {
            insert(oldKeys[slot], hash: oldHashes[slot], facts: oldFacts[slot]!)
        }
    }

    /// A hash of the key's UTF-8 bytes, read eight at a time (FNV-1a's step on words, with
    /// a shift to fold high bits down); lowest bit set so that no key hashes to "empty".
    static func hash(_ key: String) -> UInt64 {
        func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
            var offset = 0
            while offset + 8 <= bytes.count {
                hash = (hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x0000_0100_0000_01b3
                hash ^= hash >> 29
                offset += 8
            }
            var tail: UInt64 = 0
            for index in offset..<bytes.count { tail = tail << 8 | UInt64(bytes[index]) }
            hash = (hash ^ tail) &* 0x0000_0100_0000_01b3
            return (hash ^ hash >> 29) | 1
        }
        if let found = key.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return found }
        var key = key
        return key.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes. Needles here are a few bytes long, so the
    /// simple search is linear in the text.
    func containsRun(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard count >= needle.count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            var matched = 1
            while matched < needle.count, self[start + matched] == needle[matched] { matched += 1 }
            if matched == needle.count { return true }
        }
        return false
    }
}

/// An attribute key the ingest rules ask about, by its number in ``KnownKeys/names``.
///
/// The classifier, the outcome rules and the redactor ask each span some sixty questions
/// ("is there an `mcp.method.name`?"). Answered by scanning the attributes and comparing
/// strings, they were a third of the pipeline's time; answered through an
/// ``AttributeIndex`` they are an array read each.
struct KnownKey: Sendable, Hashable {
    let id: Int

    /// `name` must be in ``KnownKeys/names``; a rule naming another key is a programming
    /// error, caught the first time the rules are built (every test builds them).
    init(_ name: String) {
        guard let id = KnownKeys.ids[name] else { preconditionFailure("\(name) is not in KnownKeys.names") }
        self.id = id
    }

    var name: String { KnownKeys.names[id] }
}

/// Every attribute key the ingest rules ask about. The list is the registry: a key is
/// asked about through ``KnownKey`` only if it is here.
enum KnownKeys {
    static let names: [String] = [
        // MCP and GenAI semantic conventions
        "mcp.method.name", "gen_ai.tool.name", "mcp.tool.name", "gen_ai.prompt.name", "mcp.prompt.name",
        "mcp.resource.uri", "gen_ai.operation.name",
        // Logfire (JSON-RPC)
        "rpc.method", "rpc.system", "request", "response",
        // OpenLLMetry, OpenInference
        "traceloop.span.kind", "traceloop.entity.name", "traceloop.entity.input", "traceloop.entity.output",
        "openinference.span.kind", "tool.name", "output.value",
        // ContextForge
        "tool.id", "prompt.id", "prompt.name", "resource.uri", "success", "upstream.response.success",
        "mcp.response.value",
        // Databases
        "db.system.name", "db.system", "db.operation.name", "db.operation", "db.query.text", "db.statement",
        // HTTP
        "http.request.method", "http.method", "http.route", "url.path", "http.target", "url.full", "http.url",
        "http.response.status_code", "http.status_code",
        // Errors
        "mcp.tool.is_error", "mcp.tool.result.is_error", "tool.is_error", "mcp.is_error", "is_error", "isError",
        "rpc.jsonrpc.error_code", "jsonrpc.error.code", "mcp.error.code", "mcp.jsonrpc.error.code",
        "rpc.jsonrpc.error_message", "jsonrpc.error.message", "mcp.error.message", "error.message", "error.type",
        "rpc.response.status_code",
    ]

    static let ids: [String: Int] = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
}

/// Where the first attribute with each known key stands in one span's attributes, and the
/// facts of every attribute's key, found in one pass under one lock: a hash per attribute
/// rather than a scan per question and three lookups per key in the redactor.
struct AttributeIndex: Sendable {
    /// Per known key, the position of its first attribute plus one; 0 when absent.
    private let positions: [Int32]
    /// Per attribute, in order, what its key is.
    let facts: [KeyFacts]

    init(_ attributes: [Attribute]) {
        var positions = [Int32](repeating: 0, count: KnownKeys.names.count)
        var facts: [KeyFacts] = []
        facts.reserveCapacity(attributes.count)
        Redactor.keyFacts.withLock { cache in
            for (position, attribute) in attributes.enumerated() {
                let keyFacts = cache.facts(of: attribute.key)
                facts.append(keyFacts)
                if keyFacts.known >= 0, positions[Int(keyFacts.known)] == 0 {
                    positions[Int(keyFacts.known)] = Int32(position + 1)
                }
            }
        }
        self.positions = positions
        self.facts = facts
    }

    /// The position of the first attribute named `key`, or nil.
    func position(_ key: KnownKey) -> Int? {
        let stored = positions[key.id]
        return stored == 0 ? nil : Int(stored - 1)
    }
}

/// A span's attributes with their index, answering ``text(_:)`` as `[Attribute].text` does.
///
/// The index is made from the attributes as sent and serves their redacted copy as well:
/// redaction keeps every attribute in its place, and a cleaned key equals a known key
/// exactly when the key as sent does. Cleaning changes only keys holding NUL, which no
/// known key holds, and keys longer than the attribute length limit, which is at least 64
/// characters (`OBSERVABILITY_MAX_ATTRIBUTE_LENGTH`), longer than any known key.
struct IndexedAttributes {
    let attributes: [Attribute]
    let index: AttributeIndex

    init(_ attributes: [Attribute]) {
        self.init(attributes, index: AttributeIndex(attributes))
    }

    init(_ attributes: [Attribute], index: AttributeIndex) {
        self.attributes = attributes
        self.index = index
    }

    /// The first value under `key`.
    subscript(key: KnownKey) -> AttributeValue? {
        index.position(key).map { attributes[$0].value }
    }

    func text(_ key: KnownKey) -> String? {
        self[key]?.scalarText
    }

    func contains(_ key: KnownKey) -> Bool {
        index.position(key) != nil
    }
}

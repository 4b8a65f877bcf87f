/// An attribute key the ingest rules ask about. The cases are the registry: a key is
/// asked about only if it is here.
///
/// The classifier, the outcome rules and the redactor ask each span some sixty questions
/// ("is there an `mcp.method.name`?"). Answered by scanning the attributes and comparing
/// strings, they were a third of the pipeline's time; answered through an
/// ``AttributeIndex`` they are an array read each. The keys are enum cases rather than
/// static constants so that naming one costs nothing at run time: a static constant is
/// initialised lazily, and each use checked that it was.
enum KnownKey: Int, CaseIterable, Sendable {
    // MCP and GenAI semantic conventions
    case mcpMethodName, genAiToolName, mcpToolName, genAiPromptName, mcpPromptName
    case mcpResourceUri, genAiOperationName
    // Logfire (JSON-RPC)
    case rpcMethod, rpcSystem, request, response
    // OpenLLMetry, OpenInference
    case traceloopSpanKind, traceloopEntityName, traceloopEntityInput, traceloopEntityOutput
    case openinferenceSpanKind, toolName, outputValue
    // ContextForge
    case toolId, promptId, promptName, resourceUri, success, upstreamResponseSuccess
    case mcpResponseValue
    // Databases
    case dbSystemName, dbSystem, dbOperationName, dbOperation, dbQueryText, dbStatement
    // HTTP
    case httpRequestMethod, httpMethod, httpRoute, urlPath, httpTarget, urlFull, httpUrl
    case httpResponseStatusCode, httpStatusCode
    // Errors
    case mcpToolIsError, mcpToolResultIsError, toolIsError, mcpIsError, isErrorSnakeCase, isError
    case rpcJsonrpcErrorCode, jsonrpcErrorCode, mcpErrorCode, mcpJsonrpcErrorCode
    case rpcJsonrpcErrorMessage, jsonrpcErrorMessage, mcpErrorMessage, errorMessage, errorType
    case rpcResponseStatusCode

    /// The attribute key as sent.
    var name: String {
        switch self {
        case .mcpMethodName: "mcp.method.name"
        case .genAiToolName: "gen_ai.tool.name"
        case .mcpToolName: "mcp.tool.name"
        case .genAiPromptName: "gen_ai.prompt.name"
        case .mcpPromptName: "mcp.prompt.name"
        case .mcpResourceUri: "mcp.resource.uri"
        case .genAiOperationName: "gen_ai.operation.name"
        case .rpcMethod: "rpc.method"
        case .rpcSystem: "rpc.system"
        case .request: "request"
        case .response: "response"
        case .traceloopSpanKind: "traceloop.span.kind"
        case .traceloopEntityName: "traceloop.entity.name"
        case .traceloopEntityInput: "traceloop.entity.input"
        case .traceloopEntityOutput: "traceloop.entity.output"
        case .openinferenceSpanKind: "openinference.span.kind"
        case .toolName: "tool.name"
        case .outputValue: "output.value"
        case .toolId: "tool.id"
        case .promptId: "prompt.id"
        case .promptName: "prompt.name"
        case .resourceUri: "resource.uri"
        case .success: "success"
        case .upstreamResponseSuccess: "upstream.response.success"
        case .mcpResponseValue: "mcp.response.value"
        case .dbSystemName: "db.system.name"
        case .dbSystem: "db.system"
        case .dbOperationName: "db.operation.name"
        case .dbOperation: "db.operation"
        case .dbQueryText: "db.query.text"
        case .dbStatement: "db.statement"
        case .httpRequestMethod: "http.request.method"
        case .httpMethod: "http.method"
        case .httpRoute: "http.route"
        case .urlPath: "url.path"
        case .httpTarget: "http.target"
        case .urlFull: "url.full"
        case .httpUrl: "http.url"
        case .httpResponseStatusCode: "http.response.status_code"
        case .httpStatusCode: "http.status_code"
        case .mcpToolIsError: "mcp.tool.is_error"
        case .mcpToolResultIsError: "mcp.tool.result.is_error"
        case .toolIsError: "tool.is_error"
        case .mcpIsError: "mcp.is_error"
        case .isErrorSnakeCase: "is_error"
        case .isError: "isError"
        case .rpcJsonrpcErrorCode: "rpc.jsonrpc.error_code"
        case .jsonrpcErrorCode: "jsonrpc.error.code"
        case .mcpErrorCode: "mcp.error.code"
        case .mcpJsonrpcErrorCode: "mcp.jsonrpc.error.code"
        case .rpcJsonrpcErrorMessage: "rpc.jsonrpc.error_message"
        case .jsonrpcErrorMessage: "jsonrpc.error.message"
        case .mcpErrorMessage: "mcp.error.message"
        case .errorMessage: "error.message"
        case .errorType: "error.type"
        case .rpcResponseStatusCode: "rpc.response.status_code"
        }
    }

    /// `name` must be a known key's; naming another key is a programming error, caught the
    /// first time a list of keys by name is built (every test builds them).
    init(_ name: String) {
        guard let key = KnownKeys.byName[name] else { preconditionFailure("\(name) is not a KnownKey") }
        self = key
    }
}

/// The known keys by name, for the key-facts cache and the tests.
enum KnownKeys {
    static let names = KnownKey.allCases.map(\.name)
    static let byName: [String: KnownKey] = Dictionary(uniqueKeysWithValues: KnownKey.allCases.map { ($0.name, $0) })
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
        var positions = [Int32](repeating: 0, count: KnownKey.allCases.count)
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
        let stored = positions[key.rawValue]
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

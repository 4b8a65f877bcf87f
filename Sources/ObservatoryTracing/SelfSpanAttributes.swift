import ObservatoryIngest
import ObservatoryStore
import Tracing

/// Turns swift-distributed-tracing attributes into the ingest pipeline's, on the way
/// renaming the few that Hummingbird's tracing middleware still writes under names the
/// OpenTelemetry conventions have since replaced, so stored self-spans use the stable ones.
enum SelfSpanAttributes {
    static let renamed: [String: String] = [
        "net.sock.peer.addr": "client.address",
        "net.sock.peer.port": "client.port",
    ]
    static let dropped: Set<String> = ["net.sock.family"]

    /// Values a client chooses freely (its path, query and user agent), which anyone who
    /// can reach the port would otherwise store at `OBSERVABILITY_MAX_ATTRIBUTE_LENGTH`
    /// with every request the service answers (a 400 with an 8 KB path, issue 9). Cut to
    /// ``clientTextLimit`` bytes, with a marker: enough to tell requests apart.
    static let clientChosen: Set<String> = ["url.path", "url.query", "user_agent.original"]
    static let clientTextLimit = 256

    static func convert(_ attributes: SpanAttributes) -> [Attribute] {
        var converted: [Attribute] = []
        converted.reserveCapacity(attributes.count)
        attributes.forEach { key, value in
            guard !dropped.contains(key), var value = convert(value) else { return }
            if clientChosen.contains(key), case .string(let text) = value, text.utf8.count > clientTextLimit {
                value = .string(cut(text))
            }
            converted.append(Attribute(key: renamed[key] ?? key, value: value))
        }
        // Dictionary order is random; a stable order keeps stored JSON comparable.
        converted.sort { $0.key < $1.key }
        return converted
    }

    /// `text`'s first ``clientTextLimit`` bytes (whole characters), then how much was cut.
    static func cut(_ text: String) -> String {
        var kept = Substring()
        var bytes = 0
        for character in text {
            bytes += character.utf8.count
            if bytes > clientTextLimit { break }
            kept.append(character)
        }
        return "\(kept)…[cut \(text.utf8.count - kept.utf8.count) bytes]"
    }

    static func convert(_ value: SpanAttribute) -> AttributeValue? {
        switch value {
        case .int32(let number): .int(Int64(number))
        case .int64(let number): .int(number)
        case .double(let number): .double(number)
        case .bool(let flag): .bool(flag)
        case .string(let text): .string(text)
        case .int32Array(let numbers): .array(numbers.map { .int(Int64($0)) })
        case .int64Array(let numbers): .array(numbers.map { .int($0) })
        case .doubleArray(let numbers): .array(numbers.map { .double($0) })
        case .boolArray(let flags): .array(flags.map { .bool($0) })
        case .stringArray(let texts): .array(texts.map { .string($0) })
        case .stringConvertible(let value): .string(value.description)
        case .stringConvertibleArray(let values): .array(values.map { .string($0.description) })
        default: nil
        }
    }
}

extension TraceID {
    /// The 16 bytes, big-endian, as OTLP carries them.
    var bytes: [UInt8] { high.bigEndianBytes + low.bigEndianBytes }
}

extension SpanID {
    /// The 8 bytes, big-endian, as OTLP carries them.
    var bytes: [UInt8] { value.bigEndianBytes }
}

extension UInt64 {
    fileprivate var bigEndianBytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * $0)) }
    }
}

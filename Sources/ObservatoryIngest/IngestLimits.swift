import ObservatoryStore

/// Bounds on what one export may cost once decoded. The body limit
/// (`OBSERVABILITY_MAX_BODY_BYTES`) bounds the request, not what it expands to: issue 9 sent
/// one 512 KB resource shared by 1,000 spans (a 20 KB gzip request), which became 512 MB of
/// rows and 2.7 GB of memory. docs/ingestion.md ("Limits on what an export expands to")
/// states these numbers: change both together.
public enum IngestLimits {
    /// Longest attribute key, in UTF-8 bytes, at any depth: span, event and resource
    /// attributes and the keys of nested maps. A span carrying a longer key is rejected (OTLP
    /// `rejected_spans`, with the reason), not cut: a key is judged secret by its words
    /// (docs/redaction.md), and cutting it could cut off the word that makes it secret. Real
    /// keys are well under 100 bytes.
    public static let maxAttributeKeyBytes = 1_024

    /// Largest resource, in bytes of its stored JSON (after redaction and truncation). Every
    /// span stores its resource's JSON, so a large one is multiplied by the number of spans;
    /// the spans of a larger resource are rejected, with the reason.
    public static let maxResourceJSONBytes = 128 * 1_024

    /// How many times the body limit one export may expand to in stored bytes: each span's
    /// attributes, events, names, status message and the resource JSON it carries, summed
    /// over the spans that would be stored. Ordinary exports expand 1–2 times (JSON quoting,
    /// and a small resource repeated); escaping or a repeated resource expand more.
    public static let expansionFactor = 4

    /// The expanded limit never drops below this, so that a small body limit does not
    /// refuse ordinary exports with a resource of a few kilobytes.
    public static let minimumExpandedBytes = 16 * 1_024 * 1_024

    /// The most bytes of rows one export may store: past it the whole export is answered
    /// 413 and nothing of it is stored.
    public static func maxExpandedBytes(bodyLimit: Int) -> Int {
        let (product, overflow) = bodyLimit.multipliedReportingOverflow(by: expansionFactor)
        return max(overflow ? Int.max : product, minimumExpandedBytes)
    }

    /// The length in bytes of the first key in `attributes` over `maxAttributeKeyBytes`,
    /// nested maps (also inside arrays) included; nil when every key fits.
    static func overlongKey(in attributes: [Attribute]) -> Int? {
        for attribute in attributes {
            let length = attribute.key.utf8.count
            if length > maxAttributeKeyBytes { return length }
            if let nested = overlongKey(in: attribute.value) { return nested }
        }
        return nil
    }

    private static func overlongKey(in value: AttributeValue) -> Int? {
        switch value {
        case .map(let entries): return overlongKey(in: entries)
        case .array(let values):
            for value in values {
                if let nested = overlongKey(in: value) { return nested }
            }
            return nil
        case .string, .bytes, .int, .double, .bool: return nil
        }
    }
}

extension SpanRecord {
    /// The bytes this row stores in its text and JSON columns: what
    /// `IngestLimits.maxExpandedBytes` counts (ids, times and kinds are a few fixed bytes).
    var storedBytes: Int {
        name.utf8.count + (target?.utf8.count ?? 0) + serviceName.utf8.count + (scopeName?.utf8.count ?? 0)
            + (statusMessage?.utf8.count ?? 0) + attributesJSON.utf8.count + resourceAttributesJSON.utf8.count
            + eventsJSON.utf8.count
    }
}

import Foundation
import ObservatoryStore

/// The JSON encoding of the read API and of the data embedded in pages: sorted keys,
/// unescaped slashes, and times in RFC 3339 with microseconds. Foundation's `.iso8601`
/// drops the fraction, which would make a 14 ms trace start and end at the same instant.
enum APIJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A duration of rows written by SQL (`infinity` times) must not fail the whole
        // answer: non-finite numbers are written as the OTLP JSON mapping writes them.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    /// `2026-11-25T22:56:59.535224Z`, by the same calendar-free formatter the ingest path
    /// uses (Calendar took a fifth of a 1,000-span answer). Total: ingestion refuses times
    /// outside 1970 to now + 1 h, but rows written by SQL can hold any `timestamptz`
    /// (even `infinity`); those read as the nearest end of 1970–2554 instead of trapping.
    static func timestamp(_ date: Date) -> String {
        UnixTime.string(unixNano: UnixTime.unixNano(clamping: date.timeIntervalSince1970), style: .rfc3339)
    }
}

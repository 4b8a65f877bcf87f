import Foundation
import ObservatoryStore

/// The JSON encoding of the read API and of the data embedded in pages: sorted keys,
/// unescaped slashes, and times in RFC 3339 with microseconds. Foundation's `.iso8601`
/// drops the fraction, which would make a 14 ms trace start and end at the same instant.
enum APIJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    /// `2026-11-25T22:56:59.535224Z`, by the same calendar-free formatter the ingest path
    /// uses (Calendar took a fifth of a 1,000-span answer). Stored times are never before
    /// 1970 (ingestion refuses them); such a date would read as the epoch.
    static func timestamp(_ date: Date) -> String {
        let micros = max(0, (date.timeIntervalSince1970 * 1_000_000).rounded())
        return UnixTime.string(unixNano: UInt64(micros) * 1_000, style: .rfc3339)
    }
}

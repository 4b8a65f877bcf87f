import NIOCore

/// Somewhere bytes can be appended: a `ByteBuffer` for COPY rows, a `[UInt8]` for JSON.
public protocol ByteSink {
    mutating func append(byte: UInt8)
}

extension ByteBuffer: ByteSink {
    @inlinable public mutating func append(byte: UInt8) { writeInteger(byte) }
}

extension Array: ByteSink where Element == UInt8 {
    @inlinable public mutating func append(byte: UInt8) { append(byte) }
}

/// Formats nanoseconds since the Unix epoch as UTC text with microseconds, without a
/// calendar or formatter object: it runs for every span and event on the ingest path.
/// Total: every `UInt64` formats (the last one in year 2554).
public enum UnixTime {
    public enum Style: Sendable {
        /// `2026-11-25 10:00:00.123456+00`, PostgreSQL's own output form.
        case postgres
        /// `2026-11-25T10:00:00.123456Z`, RFC 3339.
        case rfc3339
    }

    public static func write<Sink: ByteSink>(unixNano: UInt64, style: Style, into sink: inout Sink) {
        let micros = unixNano / 1_000
        let seconds = Int64(micros / 1_000_000)
        let (year, month, day) = civilDate(daysSinceEpoch: seconds / 86_400)
        let secondOfDay = Int(seconds % 86_400)
        writeDigits(year, count: 4, into: &sink)
        sink.append(byte: UInt8(ascii: "-"))
        writeDigits(month, count: 2, into: &sink)
        sink.append(byte: UInt8(ascii: "-"))
        writeDigits(day, count: 2, into: &sink)
        sink.append(byte: style == .postgres ? UInt8(ascii: " ") : UInt8(ascii: "T"))
        writeDigits(secondOfDay / 3600, count: 2, into: &sink)
        sink.append(byte: UInt8(ascii: ":"))
        writeDigits(secondOfDay / 60 % 60, count: 2, into: &sink)
        sink.append(byte: UInt8(ascii: ":"))
        writeDigits(secondOfDay % 60, count: 2, into: &sink)
        sink.append(byte: UInt8(ascii: "."))
        writeDigits(Int(micros % 1_000_000), count: 6, into: &sink)
        if style == .postgres {
            sink.append(byte: UInt8(ascii: "+"))
            sink.append(byte: UInt8(ascii: "0"))
            sink.append(byte: UInt8(ascii: "0"))
        } else {
            sink.append(byte: UInt8(ascii: "Z"))
        }
    }

    /// The last whole microsecond a `UInt64` of nanoseconds holds (2554-07-21T23:34:33.709551Z).
    public static let latestWholeMicros: UInt64 = UInt64.max / 1_000

    /// Nanoseconds since the epoch of `seconds` since the epoch, rounded to the microsecond
    /// (the precision stored and shown) and clamped to what a `UInt64` holds: NaN and times
    /// before 1970 give 0, times after 2554 the last whole microsecond. Total for every
    /// `Double`, so a date read back from PostgreSQL (which holds years up to 294276, and
    /// `infinity`) can always be formatted.
    public static func unixNano(clamping seconds: Double) -> UInt64 {
        let micros = (seconds * 1_000_000).rounded()
        guard micros > 0 else { return 0 }  // also NaN
        // Double(latestWholeMicros) rounds up; below it the product cannot overflow.
        guard micros < Double(latestWholeMicros) else { return latestWholeMicros * 1_000 }
        return UInt64(micros) * 1_000
    }

    public static func string(unixNano: UInt64, style: Style) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        write(unixNano: unixNano, style: style, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func writeDigits<Sink: ByteSink>(_ value: Int, count: Int, into sink: inout Sink) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            sink.append(byte: UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Gregorian year, month and day of a day count since 1970-01-01 (H. Hinnant's
    /// `civil_from_days` algorithm).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}

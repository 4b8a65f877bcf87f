/// A W3C trace id: 16 bytes, kept as two big-endian halves so that it hashes, compares
/// and formats without allocating.
public struct TraceID: Hashable, Sendable, Comparable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The id from exactly 16 bytes; nil for any other length. Inlinable so that callers
    /// in other modules get it specialized for their byte collection: it runs per span.
    @inlinable
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var index = 0
        for byte in bytes {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            index += 1
        }
        self.init(high: high, low: low)
    }

    /// The id from 32 hex digits (either case); nil for anything else.
    public init?<S: StringProtocol>(hex: S) {
        let utf8 = hex.utf8
        guard utf8.count == 32, let high = UInt64(hexDigits: utf8.prefix(16)), let low = UInt64(hexDigits: utf8.dropFirst(16))
        else { return nil }
        self.init(high: high, low: low)
    }

    /// All-zero ids are invalid in W3C Trace Context and OTLP.
    public var isValid: Bool { high != 0 || low != 0 }

    /// 32 lowercase hex digits, the form APIs and pages show.
    public var hex: String { high.paddedHex + low.paddedHex }

    public static func < (lhs: TraceID, rhs: TraceID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// A W3C span id: 8 bytes. Stored in PostgreSQL as a bigint with the same bits.
public struct SpanID: Hashable, Sendable {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// The id from exactly 8 bytes; nil for any other length.
    @inlinable
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 8 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The id from 16 hex digits (either case); nil for anything else.
    public init?<S: StringProtocol>(hex: S) {
        guard hex.utf8.count == 16, let value = UInt64(hexDigits: hex.utf8) else { return nil }
        self.value = value
    }

    public var isValid: Bool { value != 0 }

    /// 16 lowercase hex digits.
    public var hex: String { value.paddedHex }

    /// The signed value PostgreSQL's bigint holds.
    public var storedValue: Int64 { Int64(bitPattern: value) }
}

extension UInt64 {
    /// Parses hex digits into a value; nil on any non-hex character or more than 16 digits.
    @inlinable
    public init?<Digits: Collection>(hexDigits: Digits) where Digits.Element == UInt8 {
        guard !hexDigits.isEmpty, hexDigits.count <= 16 else { return nil }
        var value: UInt64 = 0
        for char in hexDigits {
            let nibble: UInt8
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = char &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = char &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = char &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        self = value
    }

    /// Exactly 16 lowercase hex digits.
    var paddedHex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 {
                buffer[index] = digits[Int((self >> UInt64(60 - 4 * index)) & 0xF)]
            }
            return 16
        }
    }
}

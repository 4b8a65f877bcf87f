import NIOCore
import PostgresNIO

/// A trace id binds as a PostgreSQL `uuid`: the same 16 bytes, no formatting.
extension TraceID: PostgresNonThrowingEncodable, PostgresArrayEncodable {
    public static var psqlType: PostgresDataType { .uuid }
    public static var psqlFormat: PostgresFormat { .binary }
    public static var psqlArrayType: PostgresDataType { .uuidArray }

    public func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(high)
        byteBuffer.writeInteger(low)
    }
}

/// A point in time in microseconds since the Unix epoch that binds as a `timestamptz`
/// exactly: Foundation's `Date` goes through a floating-point second count and can be a
/// microsecond off.
public struct PostgresTimestamp: PostgresNonThrowingEncodable, PostgresArrayEncodable, Sendable {
    public var unixMicroseconds: Int64

    public init(unixNano: UInt64) {
        unixMicroseconds = Int64(unixNano / 1_000)
    }

    public static var psqlType: PostgresDataType { .timestamptz }
    public static var psqlFormat: PostgresFormat { .binary }
    public static var psqlArrayType: PostgresDataType { .timestamptzArray }

    /// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix microseconds.
    static let postgresEpoch: Int64 = 946_684_800_000_000

    public func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(unixMicroseconds - Self.postgresEpoch)
    }
}

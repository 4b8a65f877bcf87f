import NIOCore
import PostgresNIO

/// A name of the vocabulary (Vocabulary.swift) as PostgreSQL holds it: `text` with the
/// raw value's spelling. Rows decode straight into the type and the type binds as a
/// parameter, so no query or read model spells a name again. Its description is the
/// name, so text that interpolates one reads as the database and the API write it.
///
/// A name this build does not know is an error, not a guess: the schema allows only
/// these values (CHECK constraints on `spans`, the views' definitions), so another
/// value means the database holds a schema this build was not made for, which the
/// readiness check reports as well. Decoding throws `DatabaseError.unexpected` naming
/// the value and the type, and the request fails as any other database error does.
public protocol StoredName: RawRepresentable<String>, CaseIterable, Sendable, Codable, CustomStringConvertible,
    PostgresNonThrowingEncodable, PostgresDecodable
{}

extension StoredName {
    public var description: String { rawValue }

    /// The value `text` names; `DatabaseError.unexpected` when it is none of them.
    public init(stored text: String) throws(DatabaseError) {
        guard let value = Self(rawValue: text) else {
            let known = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DatabaseError.unexpected(
                "the database holds \(Self.self) \(text.debugDescription), which this build does not know (\(known)): "
                    + "its schema is not the one this build was made for")
        }
        self = value
    }

    public static var psqlType: PostgresDataType { .text }
    public static var psqlFormat: PostgresFormat { .binary }

    public func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeString(rawValue)
    }

    public init<JSONDecoder: PostgresJSONDecoder>(
        from byteBuffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
        context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        try self.init(stored: try String(from: &byteBuffer, type: type, format: format, context: context))
    }
}

extension SpanKind: StoredName {}
extension SpanOperation: StoredName {}
extension SpanStatus: StoredName {}
extension Health: StoredName {}
extension MetricLevel: StoredName {}
extension MetricWindow: StoredName {}
extension CallSide: StoredName {}

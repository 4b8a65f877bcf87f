import NIOCore
import ObservatoryStore

/// Writes span records as rows of PostgreSQL's COPY text format, straight into a
/// `ByteBuffer`. The ingest benchmark's baseline loads the very rows the service stored
/// this way (raw COPY, the fastest load PostgreSQL has), to compare the service against.
///
/// Text format rules: columns separated by a tab, rows ended by a newline, `\N` for NULL,
/// and backslash, tab, newline and carriage return escaped with a backslash.
public enum SpanCopyEncoder {
    /// The columns written, in order; the `COPY ... (columns)` list must match.
    public static let columns = [
        "trace_id", "span_id", "parent_span_id", "name", "kind", "operation", "target", "service_name",
        "scope_name", "start_time", "end_time", "duration_ms", "status", "status_message", "attributes",
        "resource_attributes", "events",
    ]

    /// The columns written when each row refers to its resource and scope by id, as the
    /// service stores rows since migrations 0018 and 0020: `resource_attributes` and
    /// `scope_name` are NULL, and `resource_id` and `scope_id` follow.
    public static let columnsAsStored = columns + ["resource_id", "scope_id"]

    /// The ids a row of ``columnsAsStored`` refers to; `scope` is nil for a span without one.
    public struct References: Sendable {
        public var resource: Int32
        public var scope: Int32?

        public init(resource: Int32, scope: Int32?) {
            self.resource = resource
            self.scope = scope
        }
    }

    public static func encode(_ records: some Sequence<SpanRecord>, into buffer: inout ByteBuffer) {
        for record in records {
            encode(record, into: &buffer)
        }
    }

    /// One row; with `references`, a row of ``columnsAsStored`` that refers to its resource
    /// and scope by those ids instead of carrying the resource's JSON and the scope's name.
    public static func encode(_ record: SpanRecord, references: References? = nil, into buffer: inout ByteBuffer) {
        let tab = UInt8(ascii: "\t")
        buffer.writeString(record.traceID.hex)
        buffer.writeInteger(tab)
        buffer.writeString(String(record.spanID.storedValue))
        buffer.writeInteger(tab)
        if let parent = record.parentSpanID {
            buffer.writeString(String(parent.storedValue))
        } else {
            writeNull(into: &buffer)
        }
        buffer.writeInteger(tab)
        writeText(record.name, into: &buffer)
        buffer.writeInteger(tab)
        buffer.writeString(record.kind.rawValue)
        buffer.writeInteger(tab)
        buffer.writeString(record.operation.rawValue)
        buffer.writeInteger(tab)
        writeOptionalText(record.target, into: &buffer)
        buffer.writeInteger(tab)
        writeText(record.serviceName, into: &buffer)
        buffer.writeInteger(tab)
        writeOptionalText(references == nil ? record.scopeName : nil, into: &buffer)
        buffer.writeInteger(tab)
        UnixTime.write(unixNano: record.startTimeUnixNano, style: .postgres, into: &buffer)
        buffer.writeInteger(tab)
        UnixTime.write(unixNano: record.endTimeUnixNano, style: .postgres, into: &buffer)
        buffer.writeInteger(tab)
        buffer.writeString(String(record.durationMilliseconds))
        buffer.writeInteger(tab)
        buffer.writeString(record.status.rawValue)
        buffer.writeInteger(tab)
        writeOptionalText(record.statusMessage, into: &buffer)
        buffer.writeInteger(tab)
        writeText(record.attributesJSON, into: &buffer)
        buffer.writeInteger(tab)
        if references == nil {
            writeText(record.resourceAttributesJSON, into: &buffer)
        } else {
            writeNull(into: &buffer)
        }
        buffer.writeInteger(tab)
        writeText(record.eventsJSON, into: &buffer)
        if let references {
            buffer.writeInteger(tab)
            buffer.writeString(String(references.resource))
            buffer.writeInteger(tab)
            if let scope = references.scope {
                buffer.writeString(String(scope))
            } else {
                writeNull(into: &buffer)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    static func writeNull(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\\"))
        buffer.writeInteger(UInt8(ascii: "N"))
    }

    static func writeOptionalText(_ text: String?, into buffer: inout ByteBuffer) {
        if let text { writeText(text, into: &buffer) } else { writeNull(into: &buffer) }
    }

    /// Copies `text`, escaping the four bytes COPY's text format gives a meaning to.
    static func writeText(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let escaped: UInt8
                switch bytes[index] {
                case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
                case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
                default: continue
                }
                buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                buffer.writeInteger(UInt8(ascii: "\\"))
                buffer.writeInteger(escaped)
                start = index + 1
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
        }
    }
}

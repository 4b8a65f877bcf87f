import CompressNIO
import Foundation
import Hummingbird
import NIOCore
import ObservatoryIngest

/// The formats ingestion reads, picked from `Content-Type`.
enum IngestFormat {
    case protobuf, json

    /// `application/x-protobuf` (or `application/protobuf`) and `application/json`, with any
    /// parameters such as `charset`; nil for anything else.
    init?(contentType: String?) {
        let mediaType = (contentType ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        switch mediaType {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }

    var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }
}

/// Reads a request body with a limit that also holds after gzip decompression, so a small
/// compressed body that inflates to gigabytes (a gzip bomb) is refused without ever being
/// held in memory beyond the limit.
enum IngestBody {
    static func read(_ request: Request, limit: Int) async throws(IngestError) -> Data {
        var buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw .tooLarge(limit: limit)
        } catch {
            throw .undecodable("the request body could not be read")
        }
        let encoding = request.headers[.contentEncoding]?.trimmingCharacters(in: .whitespaces).lowercased() ?? "identity"
        switch encoding {
        case "identity", "":
            break
        case "gzip", "x-gzip":
            buffer = try gunzip(buffer, limit: limit)
        default:
            throw .unsupportedMediaType("Content-Encoding \"\(encoding)\" is not supported; send gzip or no encoding")
        }
        return Data(buffer: buffer)
    }

    /// Appended after the body before inflating. zlib stops at the end of a complete gzip
    /// member (after checking its CRC-32 and length), leaving this byte unread; a body cut
    /// short has no end, so zlib reads the byte as more compressed data (or fails on it).
    /// CompressNIO does not say whether the stream ended, but whether this byte is still
    /// there does. 0xFF can never be the missing last byte of a cut member: that byte is
    /// the top byte of the member's length modulo 2^32, below 0x40 for any body under the
    /// 1 GiB most `OBSERVABILITY_MAX_BODY_BYTES` allows.
    static let endSentinel: UInt8 = 0xFF

    /// Inflates every gzip member of `compressed` (RFC 1952 lets a body concatenate
    /// several) into at most `limit` bytes; a body cut short, corrupt, or followed by
    /// bytes that are not gzip is refused with 400.
    static func gunzip(_ compressed: ByteBuffer, limit: Int) throws(IngestError) -> ByteBuffer {
        var input = compressed
        input.writeInteger(endSentinel)
        var output = ByteBuffer()
        repeat {
            var member: ByteBuffer
            do {
                // One byte over what is left tells "too large" apart from "exactly the limit".
                member = try input.decompress(with: .gzip(), maxSize: limit - output.readableBytes + 1)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw .tooLarge(limit: limit)
            } catch {
                throw .undecodable("the body is not valid gzip data")
            }
            output.writeBuffer(&member)
            guard output.readableBytes <= limit else { throw .tooLarge(limit: limit) }
            guard input.readableBytes > 0 else {
                throw .undecodable("the gzip body is cut short: it ends before its final block and checksum")
            }
        } while input.readableBytes > 1
        return output
    }
}

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
            do {
                // One byte over the limit tells "too large" apart from "exactly the limit".
                buffer = try buffer.decompress(with: .gzip(), maxSize: limit + 1)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw .tooLarge(limit: limit)
            } catch {
                throw .undecodable("the body is not valid gzip data")
            }
            guard buffer.readableBytes <= limit else { throw .tooLarge(limit: limit) }
        default:
            throw .unsupportedMediaType("Content-Encoding \"\(encoding)\" is not supported; send gzip or no encoding")
        }
        return Data(buffer: buffer)
    }
}

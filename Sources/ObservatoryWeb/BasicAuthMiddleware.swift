import Foundation
import Hummingbird

/// HTTP Basic authentication for the dashboards and the read API, when
/// OBSERVABILITY_ADMIN_USER and OBSERVABILITY_ADMIN_PASSWORD are set. Ingestion keeps its
/// own bearer token, so agents never hold the operators' password.
struct BasicAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let expected: [UInt8]

    init(user: String, password: String) {
        expected = Array("\(user):\(password)".utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard authorizes(request) else {
            if request.uri.path.hasPrefix("/api/") {
                var response = NativeAnswer.error(.unauthorized, "sign in with the admin user and password (HTTP Basic)")
                response.headers[.wwwAuthenticate] = #"Basic realm="MCP Observatory", charset="UTF-8""#
                response.headers[.cacheControl] = "no-store"
                return response
            }
            return Response(
                status: .unauthorized,
                headers: [
                    .wwwAuthenticate: #"Basic realm="MCP Observatory", charset="UTF-8""#,
                    .contentType: "text/plain; charset=utf-8",
                ],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(string: "401 Unauthorized: sign in with the admin user and password.\n")))
        }
        return try await next(request, context)
    }

    func authorizes(_ request: Request) -> Bool {
        guard let header = request.headers[.authorization], header.count > 6, header.prefix(6).lowercased() == "basic ",
            let decoded = Data(base64Encoded: header.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else { return false }
        return constantTimeEquals(Array(decoded), expected)
    }
}

import HTTPTypes
import Hummingbird

/// Adds the browser protections to every answer: a Content-Security-Policy that allows
/// only this origin's own scripts, styles, images and fetches, no framing (CSP
/// `frame-ancestors` and `X-Frame-Options` for older browsers), no MIME sniffing and no
/// referrer beyond this origin.
///
/// The policy is true to the pages: every script is a same-origin file (the JSON blocks
/// the pages embed are data, not executed, so CSP does not apply to them), no page has an
/// inline script, event handler or `<style>` element, and scripts set styles through the
/// CSSOM, which `style-src 'self'` allows. The one exception is the trace page's span
/// table, which indents each row by its depth with a `style` attribute (any depth, so no
/// class or hash can stand for it): `style-src-attr 'unsafe-inline'` allows style
/// attributes and nothing else; they cannot run script, and what they could load is
/// still held to `img-src`. The favicon is the empty `data:` URL.
/// Errors that routes throw (404, 400, ...) are turned into their answers here so they
/// carry the headers too.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        return response
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}

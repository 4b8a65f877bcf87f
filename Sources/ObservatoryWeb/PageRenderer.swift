import Hummingbird
import Mustache

/// Renders the mustache templates into HTML responses. Templates are parsed once, at
/// startup; a template that does not parse stops startup with its name.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary

    public struct TemplateError: Error, CustomStringConvertible {
        public var description: String
    }

    public init() throws(TemplateError) {
        var library = MustacheLibrary()
        for (name, bytes) in WebResources.templates.sorted(by: { $0.key < $1.key }) {
            do {
                try library.register(String(decoding: bytes, as: UTF8.self), named: name)
            } catch {
                throw TemplateError(description: "template \(name).mustache does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// The page, or a plain 500 naming the template if it renders nothing (a template
    /// missing from WebResources; never the case in a tested build).
    func html(_ template: String, _ view: Any, status: HTTPResponse.Status = .ok) -> Response {
        guard let text = library.render(view, withTemplate: template) else {
            return Response(
                status: .internalServerError, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "template \(template) is missing\n")))
        }
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

import Foundation
import Hummingbird
import NIOCore

/// Serves the pages' own scripts and styles (compiled in) and Chart.js, read once at
/// startup from Debian's libjs-chart.js. Without Chart.js the pages still work: they
/// leave out the script tag and show a notice where each chart would be.
public struct StaticController: Sendable {
    let chartJS: ByteBuffer?

    /// Where Debian's libjs-chart.js installs Chart.js 3.
    public static let debianChartJSPath = "/usr/share/javascript/chart.js/chart.min.js"

    public init(chartJSPath: String = StaticController.debianChartJSPath) {
        chartJS = FileManager.default.contents(atPath: chartJSPath).map { ByteBuffer(bytes: $0) }
    }

    public var chartsAvailable: Bool { chartJS != nil }

    public func addRoutes(to router: Router<some RequestContext>) {
        router.get("/static/observatory/:file") { _, context in
            guard let name = context.parameters.get("file"), let asset = WebResources.assets[name] else {
                return Self.notFound()
            }
            return Response(
                status: .ok,
                headers: [.contentType: asset.contentType, .cacheControl: "public, max-age=300"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
        }
        // Browsers ask for it on every JSON or text answer they show; without an answer
        // they log an error. There is no icon: "no content", cached for a day.
        router.get("/favicon.ico") { _, _ in
            Response(status: .noContent, headers: [.cacheControl: "public, max-age=86400"])
        }
        router.get("/static/vendor/chart.min.js") { _, _ in
            guard let chartJS else { return Self.notFound() }
            return Response(
                status: .ok,
                headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: chartJS))
        }
    }

    static func notFound() -> Response {
        Response(
            status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "404 Not Found\n")))
    }
}

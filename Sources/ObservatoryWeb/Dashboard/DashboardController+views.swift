import Foundation
import HTTPTypes
import Hummingbird
import ObservatoryStore

/// Saved views: a list page's filters under a name, listed in the navigation of every
/// page, opened by `/admin/observability/views/{id}` (a link to share), deleted after a
/// confirmation page. Writes are form posts from the pages themselves: a post from
/// another site is refused (see ``isSameOrigin(_:)``).
extension DashboardController {
    /// The largest form accepted: a name and a query string.
    static let viewFormBytes = 16 * 1_024

    func addViewRoutes<Context: ReplicaStatusRequestContext>(to group: RouterGroup<Context>) {
        group.get("observability/views") { _, context in await reading(context).viewList() }
        group.post("observability/views") { request, context in await reading(context).saveView(request) }
        group.get("observability/views/:id") { _, context in await reading(context).openView(context.parameters.get("id")) }
        group.get("observability/views/:id/delete") { _, context in
            await reading(context).confirmDeletion(context.parameters.get("id"))
        }
        group.post("observability/views/:id/delete") { request, context in
            await reading(context).deleteView(request, context.parameters.get("id"))
        }
    }

    /// The views for the navigation; none when they cannot be read (the page still shows,
    /// or fails on its own query with its own message).
    func savedViews() async -> [SavedView] {
        do {
            return try await views.list()
        } catch {
            logger.warning("saved views could not be read", metadata: ["error": "\(error)"])
            return []
        }
    }

    func viewList() async -> Response {
        await answer(title: "Saved views") {
            let list = try await views.list()
            var chrome = chrome("Saved views")
            chrome.views = list.map(SavedViewLink.init)  // the list just read, not a second query
            return renderer.html("views", SavedViewsView(chrome: chrome, views: list.map(SavedViewRow.init)))
        }
    }

    func openView(_ id: String?) async -> Response {
        await answer(title: "Saved view") {
            guard let view = try await views.find(try Self.viewID(id)) else { return viewNotFound() }
            return Response.redirect(to: SavedViewLink(view).target, type: .found)
        }
    }

    func saveView(_ request: Request) async -> Response {
        await answer(title: "Save view") {
            guard Self.isSameOrigin(request) else { return crossSite() }
            let form = try await Self.form(request)
            guard let page = form["page"].flatMap(SavedViewPage.init(rawValue:)) else {
                let allowed = SavedViewPage.allCases.map(\.rawValue).joined(separator: ", ")
                throw BadQuery(message: "page must be one of \(allowed) (got \((form["page"] ?? "").debugDescription))")
            }
            let name = try Self.viewName(form["name"] ?? "")
            guard let parameters = formParameters(form["query"] ?? ""),
                let attributes = formParameterValues(form["query"] ?? "", name: "attr")
            else {
                throw BadQuery(message: "the query holds a malformed %-escape")
            }
            let query = try page.canonicalQuery(parameters, attributes: attributes)
            let view: SavedView
            do {
                view = try await views.create(name: name, page: page.rawValue, query: query)
            } catch DatabaseError.duplicate(_) {
                return message(
                    .conflict, title: "Name taken",
                    text: "A view named “\(name)” exists already. Choose another name, or delete that view first.")
            }
            return Response.redirect(to: SavedViewLink(view).target, type: .normal)
        }
    }

    func confirmDeletion(_ id: String?) async -> Response {
        await answer(title: "Delete view") {
            guard let view = try await views.find(try Self.viewID(id)) else { return viewNotFound() }
            return renderer.html(
                "view_delete", SavedViewDeletion(chrome: await chrome("Delete view", save: nil), view: SavedViewRow(view)))
        }
    }

    func deleteView(_ request: Request, _ id: String?) async -> Response {
        await answer(title: "Delete view") {
            guard Self.isSameOrigin(request) else { return crossSite() }
            guard try await views.delete(try Self.viewID(id)) else { return viewNotFound() }
            return Response.redirect(to: "/admin/observability/views", type: .normal)
        }
    }

    func viewNotFound() -> Response {
        message(.notFound, title: "View not found", text: "No saved view has this id. It may have been deleted.")
    }

    func crossSite() -> Response {
        message(
            .forbidden, title: "Refused",
            text: "Views are saved and deleted from this server's own pages; this request came from another site.")
    }

    /// Whether a form post comes from this server's own pages. Browsers send
    /// `Sec-Fetch-Site` and `Origin` with every form post; another site's page (which
    /// would carry the browser's saved credentials) has a foreign value in either. A
    /// client that sends neither (curl) is not a browser tricked into posting.
    static func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            return false
        }
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority, let url = URL(string: origin),
            let originHost = url.host
        else { return false }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }

    /// The fields of an `application/x-www-form-urlencoded` body.
    static func form(_ request: Request) async throws -> [String: String] {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: viewFormBytes)
        } catch {
            throw BadQuery(message: "the form is larger than \(viewFormBytes / 1_024) KiB")
        }
        guard let form = formParameters(String(buffer: body)) else {
            throw BadQuery(message: "the form holds a malformed %-escape")
        }
        return form
    }

    static func viewID(_ text: String?) throws(BadQuery) -> Int64 {
        guard let text, let id = Int64(text), id > 0 else {
            throw BadQuery(message: "a view id is a positive number (got \((text ?? "").debugDescription))")
        }
        return id
    }

    /// A view's name: trimmed, 1 to 100 characters, no control characters.
    static func viewName(_ raw: String) throws(BadQuery) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw BadQuery(message: "a view needs a name") }
        guard name.count <= 100 else { throw BadQuery(message: "a view's name is at most 100 characters") }
        guard !containsControlCharacters(name) else {
            throw BadQuery(message: "a view's name must not contain control characters")
        }
        return name
    }
}

/// A saved view in the navigation.
struct SavedViewLink: Sendable {
    var name: String
    /// `/admin/observability/views/{id}`: the link to share.
    var href: String
    /// The page with the view's filters.
    var target: String

    init(_ view: SavedView) {
        name = view.name
        href = "/admin/observability/views/\(view.id)"
        let page = SavedViewPage(rawValue: view.page) ?? .traces
        target = view.query.isEmpty ? page.path : page.path + "?" + view.query
    }
}

/// A row of the saved-views page.
struct SavedViewRow: Sendable {
    var name: String
    var href: String
    var page: String
    /// The filters as the query string shows them, decoded for reading.
    var filters: String
    var deleteURL: String

    init(_ view: SavedView) {
        let link = SavedViewLink(view)
        name = view.name
        href = link.href
        page = SavedViewPage(rawValue: view.page)?.title ?? view.page
        filters = view.query.split(separator: "&").map { ($0.removingPercentEncoding ?? String($0)) }.joined(separator: ", ")
        deleteURL = link.href + "/delete"
    }
}

/// The saved-views page (template `views`).
struct SavedViewsView: Sendable {
    var chrome: Chrome
    var views: [SavedViewRow]
    var hasViews: Bool

    init(chrome: Chrome, views: [SavedViewRow]) {
        self.chrome = chrome
        self.views = views
        hasViews = !views.isEmpty
    }
}

/// The confirmation page of a deletion (template `view_delete`).
struct SavedViewDeletion: Sendable {
    var chrome: Chrome
    var view: SavedViewRow
}

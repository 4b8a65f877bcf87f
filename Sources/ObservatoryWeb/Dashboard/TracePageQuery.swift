import Foundation

/// The trace page's one parameter, `page`: which page of the span table to list
/// (`TracePageLimits.tableRows` spans a page, in tree order). Missing or empty means the
/// first; anything but a whole number in range is refused with 400. A page past the
/// trace's last is not an error (the trace may have shrunk since the link was made): the
/// page says so and links back.
struct TracePageQuery: Sendable, Equatable {
    var page: Int

    init(page: Int = 1) { self.page = page }

    init(_ parameters: [String: String]) throws(BadQuery) {
        page = 1
        guard let value = parameters["page"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return }
        guard let page = Int(value), (1...TracePageLimits.maxTablePage).contains(page) else {
            throw BadQuery(
                message: "page must be a number from 1 to \(TracePageLimits.maxTablePage) (got \(value.debugDescription))")
        }
        self.page = page
    }
}

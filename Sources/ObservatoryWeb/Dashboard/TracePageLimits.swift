/// How much of one trace its page puts in front of the browser. A trace can hold tens of
/// thousands of spans (a root with 50,000 sequential children took Chromium 90 s and a
/// million DOM nodes when every span was a table row, a Gantt row and a flame node), so
/// the page draws a bounded outline and lists the spans a page at a time, and says so.
/// The page scripts receive these values with the trace data (`limits`) rather than
/// declaring their own. The JSON API is not limited: it is for machines.
enum TracePageLimits {
    /// Span table rows per page (`?page=` on the trace page), in tree order.
    static let tableRows = 500
    /// Largest `page` accepted: with `tableRows` a page, 500 million spans, far more than
    /// a trace holds; it keeps the row arithmetic far from overflow.
    static let maxTablePage = 1_000_000
    /// Of a span's children (or of the trace's roots), the Gantt chart and the flame graph
    /// draw the first this many; the rest become one summary row ("… 49,950 more
    /// children of …") with their time range, failures and where the table lists them.
    static let siblingsDrawn = 50
    /// Rows the Gantt chart draws at most, spans and summary rows together; the flame
    /// graph draws the same spans and summaries. What is left over is counted, not drawn.
    static let drawnRows = 1_000
    /// Rows deeper than this are indented no further (a 20,000-deep chain would otherwise
    /// push names 280,000 px to the right); the depth is still shown as text.
    static let indentLevels = 32
}

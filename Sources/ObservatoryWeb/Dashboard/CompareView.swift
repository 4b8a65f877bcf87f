import Foundation
import ObservatoryStore

/// The comparison page (template `compare`): both sides' summaries, the totals, and the
/// aligned span tree as one table. The table's rows are built by `HTMLText`, as the trace
/// page's span table is, because a 1,000-span comparison is as many rows.
///
/// How rows read: a span only one side has is highlighted (`only-a`, `only-b`) and its
/// other side shows "–"; a path repeated under one parent (a loop of queries) shows "#2"
/// on its second occurrence and "×3" where a side has three of them, occurrences matched in
/// start order; a span on a side's critical path is marked with that side's letter.
struct CompareView: Sendable {
    /// One side's header.
    struct Side: Sendable {
        var label: String
        var href: String?
        var traceID: String?
        var description: String
        var durationText: String
        var spanCount: String
        var criticalText: String
    }

    var chrome: Chrome
    var apiURL: String
    var a: Side
    var b: Side
    var isTypical: Bool
    /// What the typical trace was built from and whether it was bounded; nil for two traces.
    var typicalNotice: String?
    /// Links to the same comparison over the other windows.
    var windows: [Option]
    var totalA: String
    var totalB: String
    var totalDifference: String
    var matchedCount: String
    var onlyACount: String
    var onlyBCount: String
    /// Spans the alignment could not place (parent cycles); nil when none.
    var unalignedNotice: String?
    /// How many rare paths of the typical trace are not listed; nil when none.
    var rareNotice: String?
    /// The aligned rows, escaped by `HTMLText`.
    var rowsHTML: String

    init(payload: ComparePayload, chrome: Chrome) {
        self.chrome = chrome
        apiURL = link("/api/v1/compare", payload.query.queryItems)
        a = Self.side("A", payload.a)
        if let b = payload.b {
            self.b = Self.side("B", b)
        } else {
            let typical = payload.typical
            let count = typical?.sample.traceIDs.count ?? 0
            self.b = Side(
                label: "Typical", href: nil, traceID: nil,
                description: "Median of \(Format.count(count)) \(count == 1 ? "trace" : "traces") of this kind",
                durationText: Format.duration(typical?.medianDurationMs), spanCount: "–", criticalText: "not marked (a median)")
        }
        isTypical = payload.typical != nil
        if let typical = payload.typical {
            typicalNotice = Self.notice(typical)
            windows = MetricWindow.allCases.map {
                Option(
                    value: CompareQuery.typicalLink(payload.a.summary.traceID, window: $0), label: $0.rawValue,
                    selected: $0 == typical.window)
            }
        } else {
            windows = []
        }
        totalA = Format.duration(payload.a.summary.durationMs)
        totalB = Format.duration(payload.durationB)
        totalDifference = payload.durationB.map { Self.difference(payload.a.summary.durationMs - $0, base: $0) } ?? "–"
        matchedCount = Format.count(payload.rows.filter { $0.only == nil }.count)
        onlyACount = Format.count(payload.rows.filter { $0.only == .a }.count)
        onlyBCount = Format.count(payload.rows.filter { $0.only == .b }.count)
        let unaligned = payload.unalignedA + payload.unalignedB
        unalignedNotice =
            unaligned == 0
            ? nil
            : "\(Format.count(unaligned)) \(unaligned == 1 ? "span is" : "spans are") left out: their parents form a cycle, so they hang from no root."
        let rare = payload.rareTypicalPaths
        rareNotice =
            rare == 0
            ? nil
            : "\(Format.count(rare)) span \(rare == 1 ? "path" : "paths") of the typical trace that this trace lacks and fewer than half of its traces had \(rare == 1 ? "is" : "are") not listed."
        rowsHTML = Self.rows(payload)
    }

    static func side(_ label: String, _ trace: ComparePayload.Trace) -> Side {
        let summary = trace.summary
        let critical = trace.critical.count
        return Side(
            label: label, href: "/admin/observability/traces/\(summary.traceID)", traceID: summary.traceID,
            description: summary.rootName + " · " + summary.serviceName + " · " + Format.time(summary.startTime),
            durationText: Format.duration(summary.durationMs), spanCount: Format.count(trace.spanCount),
            criticalText: "\(Format.count(critical)) \(critical == 1 ? "span" : "spans")")
    }

    /// What the typical trace is: the kind, the window, how many traces, and whether a
    /// limit left some out.
    static func notice(_ typical: ComparePayload.Typical) -> String {
        let count = typical.sample.traceIDs.count
        let kind = "“\(typical.rootName)” at \(typical.service)"
        guard count > 0 else {
            return
                "No other trace of \(kind) started in the last \(typical.window.rawValue): there is no typical trace to compare with, so every span shows as only in A. Try a longer window."
        }
        var text =
            "The typical trace of \(kind) over the last \(typical.window.rawValue): per span path, the median duration over \(Format.count(count)) \(count == 1 ? "trace" : "traces") (\(Format.count(typical.sample.spans)) spans), this trace left out."
        if typical.sample.bounded {
            text +=
                " Built from the newest only: a typical trace reads at most \(Format.count(CompareQuery.typicalMaxTraces)) traces and \(Format.count(CompareQuery.typicalMaxSpans)) spans, and this window has more."
        } else {
            text += " Every trace of this kind in the window."
        }
        return text
    }

    /// `+12.3 ms (+45.0 %)`, or without the share when `base` is zero.
    static func difference(_ ms: Double, base: Double) -> String {
        let sign = ms > 0 ? "+" : ms < 0 ? "−" : "±"
        var text = sign + Format.duration(abs(ms))
        if base > 0 { text += " (" + sign + Format.percent(abs(ms) / base * 100) + ")" }
        return text
    }

    /// Nesting deeper than this is indented as this, with the depth written out.
    static let indentLevels = TracePageLimits.indentLevels

    static func rows(_ payload: ComparePayload) -> String {
        var html = HTMLText(capacity: payload.rows.count * 600)
        let traceA = "/admin/observability/traces/" + payload.a.summary.traceID + "#span-"
        let traceB = payload.b.map { "/admin/observability/traces/" + $0.summary.traceID + "#span-" }
        let typical = payload.typical != nil
        for (index, row) in payload.rows.enumerated() {
            let span = row.span
            html.markup("<tr id=\"row-")
            html.number(index + 1)
            html.markup("\" class=\"compare-row")
            switch row.only {
            case .a: html.markup(" only-a\" data-only=\"a")
            case .b: html.markup(" only-b\" data-only=\"b")
            case nil: break
            }
            html.markup("\" data-depth=\"")
            html.number(span.depth)
            html.markup("\">\n<td class=\"name\"><span class=\"indent\" style=\"padding-left: ")
            html.number(min(span.depth, indentLevels) * 14)
            html.markup("px\">")
            html.text(span.name)
            html.markup("</span>")
            if span.ordinal > 1 {
                html.markup(" <span class=\"ordinal\" title=\"occurrence in start order among same-path siblings\">#")
                html.number(span.ordinal)
                html.markup("</span>")
            }
            switch row.only {
            case .a: html.markup(" <span class=\"badge only-a\">only in A</span>")
            case .b:
                html.markup(
                    typical
                        ? " <span class=\"badge only-b\">only typical</span>" : " <span class=\"badge only-b\">only in B</span>")
            case nil: break
            }
            html.markup("<div class=\"sub\">")
            html.text(span.serviceName)
            html.markup(" · ")
            html.text(span.operation.rawValue)
            if let target = span.target {
                html.markup(" · ")
                html.text(target)
            }
            if span.depth > indentLevels {
                html.markup(" · depth ")
                html.number(span.depth)
            }
            html.markup("</div></td>\n<td class=\"num repeats\">")
            html.text(repeats(span.repeatsA))
            html.markup(" / ")
            html.text(repeats(span.repeatsB))
            if let traces = span.tracesB, typical {
                html.markup("<div class=\"sub in-traces\">in ")
                html.text(Format.count(traces))
                html.markup(" of ")
                html.text(Format.count(payload.typical?.sample.traceIDs.count ?? 0))
                html.markup("</div>")
            }
            html.markup("</td>\n<td class=\"num dur-a\"")
            duration(span.durationA, spanID: span.spanIDA, trace: traceA, critical: row.criticalA, label: "A", into: &html)
            html.markup("</td>\n<td class=\"num dur-b\"")
            duration(
                span.durationB, spanID: span.spanIDB, trace: traceB, critical: row.criticalB,
                label: "B", into: &html)
            html.markup("</td>\n<td class=\"num diff")
            if let difference = row.differenceMs {
                html.markup(difference > 0 ? " slower" : difference < 0 ? " faster" : "")
                html.markup("\" data-value=\"")
                html.text(Format.plainNumber(difference))
                html.markup("\">")
                html.text(Self.difference(difference, base: span.durationB ?? 0))
            } else {
                html.markup("\">–")
            }
            html.markup("</td>\n</tr>\n")
        }
        return html.string
    }

    /// `×3` for a path a side has three times under one parent; empty for once, `–` for none.
    static func repeats(_ count: Int?) -> String {
        guard let count else { return "–" }
        return count > 1 ? "×" + String(count) : "1"
    }

    /// The rest of a duration cell after `<td class="…"`: its value, a link to the span
    /// in its trace, and the side's critical-path mark.
    static func duration(
        _ ms: Double?, spanID: String?, trace: String?, critical: Bool, label: StaticString, into html: inout HTMLText
    ) {
        guard let ms else {
            html.markup(">–")
            return
        }
        html.markup(" data-value=\"")
        html.text(Format.plainNumber(ms))
        html.markup("\">")
        if let spanID, let trace {
            html.markup("<a href=\"")
            html.text(trace + spanID)
            html.markup("\">")
            html.text(Format.duration(ms))
            html.markup("</a>")
        } else {
            html.text(Format.duration(ms))
        }
        if critical {
            html.markup(" <span class=\"badge critical\" title=\"on the critical path of ")
            html.markup(label)
            html.markup("\">crit ")
            html.markup(label)
            html.markup("</span>")
        }
    }
}

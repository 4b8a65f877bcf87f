import Foundation

/// The templates and the pages' own scripts and styles, compiled into the binary from
/// Sources/ObservatoryWeb/Resources (Package.swift: `.embedInCode`). Listing them here
/// makes a missing file a build error rather than a broken page in production.
enum WebResources {
    static let templates: [String: [UInt8]] = [
        "base": PackageResources.base_mustache,
        "summary": PackageResources.summary_mustache,
        "summary_body": PackageResources.summary_body_mustache,
        "operations": PackageResources.operations_mustache,
        "operations_body": PackageResources.operations_body_mustache,
        "traces": PackageResources.traces_mustache,
        "trace": PackageResources.trace_mustache,
        "compare": PackageResources.compare_mustache,
        "session": PackageResources.session_mustache,
        "calls_table": PackageResources.calls_table_mustache,
        "message": PackageResources.message_mustache,
        "views": PackageResources.views_mustache,
        "view_delete": PackageResources.view_delete_mustache,
    ]

    /// Served under /static/observatory/.
    static let assets: [String: (bytes: [UInt8], contentType: String)] = [
        "style.css": (PackageResources.style_css, "text/css; charset=utf-8"),
        "charts.js": (PackageResources.charts_js, "text/javascript; charset=utf-8"),
        "refresh.js": (PackageResources.refresh_js, "text/javascript; charset=utf-8"),
        "tables.js": (PackageResources.tables_js, "text/javascript; charset=utf-8"),
        "tooltip.js": (PackageResources.tooltip_js, "text/javascript; charset=utf-8"),
        "trace-model.js": (PackageResources.trace_model_js, "text/javascript; charset=utf-8"),
        "gantt.js": (PackageResources.gantt_js, "text/javascript; charset=utf-8"),
        "flame.js": (PackageResources.flame_js, "text/javascript; charset=utf-8"),
        "trace.js": (PackageResources.trace_js, "text/javascript; charset=utf-8"),
    ]
}

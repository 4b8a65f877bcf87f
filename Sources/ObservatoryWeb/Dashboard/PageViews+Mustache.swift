import Mustache

// Generated from the view models' stored properties (see MustacheFields): keep in step
// when a view model changes; a missing name renders as empty, which the page tests catch.

extension SessionView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "sessionID": \.sessionID,
        "apiURL": \.apiURL,
        "hasCalls": \.hasCalls,
        "countText": \.countText,
        "failedText": \.failedText,
        "truncatedNotice": \.truncatedNotice,
        "callRowsHTML": \.callRowsHTML,
    ]
}

extension Chrome: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "title": \.title,
        "navSummary": \.navSummary,
        "navTools": \.navTools,
        "navPrompts": \.navPrompts,
        "navResources": \.navResources,
        "navTraces": \.navTraces,
        "chartsAvailable": \.chartsAvailable,
        "refreshSeconds": \.refreshSeconds,
        "replica": \.replica,
        "views": \.views,
        "saveView": \.saveView,
    ]
}

extension SaveViewForm: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "page": \.page,
        "query": \.query,
    ]
}

extension SavedViewLink: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "name": \.name,
        "href": \.href,
        "target": \.target,
    ]
}

extension SavedViewRow: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "name": \.name,
        "href": \.href,
        "page": \.page,
        "filters": \.filters,
        "deleteURL": \.deleteURL,
    ]
}

extension SavedViewsView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "views": \.views,
        "hasViews": \.hasViews,
    ]
}

extension SavedViewDeletion: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "view": \.view,
    ]
}

extension ReplicaLine: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "text": \.text,
        "state": \.state,
        "title": \.title,
    ]
}

extension Option: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "value": \.value,
        "label": \.label,
        "selected": \.selected,
    ]
}

extension Header: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "key": \.key,
        "label": \.label,
        "sortClass": \.sortClass,
        "numeric": \.numeric,
    ]
}

extension Card: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "label": \.label,
        "value": \.value,
        "detail": \.detail,
        "health": \.health,
    ]
}

extension MetricRowView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "name": \.name,
        "operation": \.operation,
        "server": \.server,
        "href": \.href,
        "count": \.count,
        "countText": \.countText,
        "avgMs": \.avgMs,
        "avgText": \.avgText,
        "p50Ms": \.p50Ms,
        "p50Text": \.p50Text,
        "p90Ms": \.p90Ms,
        "p90Text": \.p90Text,
        "p95Ms": \.p95Ms,
        "p95Text": \.p95Text,
        "p99Ms": \.p99Ms,
        "p99Text": \.p99Text,
        "p50URL": \.p50URL,
        "p95URL": \.p95URL,
        "p99URL": \.p99URL,
        "clientP50Ms": \.clientP50Ms,
        "clientP50Text": \.clientP50Text,
        "clientP95Ms": \.clientP95Ms,
        "clientP95Text": \.clientP95Text,
        "overheadMs": \.overheadMs,
        "overheadText": \.overheadText,
        "errorCount": \.errorCount,
        "errorCountText": \.errorCountText,
        "errorPct": \.errorPct,
        "errorText": \.errorText,
        "health": \.health,
        "lastSeen": \.lastSeen,
        "lastSeenText": \.lastSeenText,
        "exampleError": \.exampleError,
    ]
}

extension TraceRowView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "traceID": \.traceID,
        "href": \.href,
        "name": \.name,
        "service": \.service,
        "start": \.start,
        "startText": \.startText,
        "durationMs": \.durationMs,
        "durationText": \.durationText,
        "spanCount": \.spanCount,
        "errorCount": \.errorCount,
        "status": \.status,
        "failedOperation": \.failedOperation,
        "errorMessage": \.errorMessage,
    ]
}

extension OperationView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "kind": \.kind,
        "noun": \.noun,
        "nameHeader": \.nameHeader,
        "path": \.path,
        "fragmentURL": \.fragmentURL,
        "apiURL": \.apiURL,
        "windowLabel": \.windowLabel,
        "windows": \.windows,
        "limits": \.limits,
        "sort": \.sort,
        "server": \.server,
        "dir": \.dir,
        "autoRefresh": \.autoRefresh,
        "freshness": \.freshness,
        "hasRows": \.hasRows,
        "cards": \.cards,
        "headers": \.headers,
        "rows": \.rows,
        "chartJSON": \.chartJSON,
    ]
}

extension SummaryView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "path": \.path,
        "fragmentURL": \.fragmentURL,
        "apiURL": \.apiURL,
        "windowLabel": \.windowLabel,
        "windows": \.windows,
        "limits": \.limits,
        "autoRefresh": \.autoRefresh,
        "freshness": \.freshness,
        "cards": \.cards,
        "topErrors": \.topErrors,
        "failedTraces": \.failedTraces,
        "recentTraces": \.recentTraces,
        "failedTracesURL": \.failedTracesURL,
        "allTracesURL": \.allTracesURL,
        "chartJSON": \.chartJSON,
    ]
}

extension TraceListView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "apiURL": \.apiURL,
        "ndjsonURL": \.ndjsonURL,
        "csvURL": \.csvURL,
        "windows": \.windows,
        "statuses": \.statuses,
        "operations": \.operations,
        "limits": \.limits,
        "target": \.target,
        "minMs": \.minMs,
        "search": \.search,
        "service": \.service,
        "server": \.server,
        "maxMs": \.maxMs,
        "session": \.session,
        "attributeFields": \.attributeFields,
        "boundedNotice": \.boundedNotice,
        "hasRows": \.hasRows,
        "rows": \.rows,
        "page": \.page,
        "previousURL": \.previousURL,
        "nextURL": \.nextURL,
        "filterSummary": \.filterSummary,
    ]
}

extension TraceView.Field: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "key": \.key,
        "value": \.value,
    ]
}

extension DashboardController.MessageView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "heading": \.heading,
        "text": \.text,
        "status": \.status,
    ]
}

extension TraceView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "apiURL": \.apiURL,
        "otlpURL": \.otlpURL,
        "traceID": \.traceID,
        "rootName": \.rootName,
        "startText": \.startText,
        "endText": \.endText,
        "durationText": \.durationText,
        "status": \.status,
        "spanCount": \.spanCount,
        "errorCount": \.errorCount,
        "hasErrors": \.hasErrors,
        "services": \.services,
        "resources": \.resources,
        "timelineJSON": \.timelineJSON,
        "drawingNotice": \.drawingNotice,
        "tableNotice": \.tableNotice,
        "rankNotice": \.rankNotice,
        "previousPageURL": \.previousPageURL,
        "nextPageURL": \.nextPageURL,
        "spanRowsHTML": \.spanRowsHTML,
        "callRowsHTML": \.callRowsHTML,
        "hasCalls": \.hasCalls,
    ]
}

extension TraceView.ServiceResource: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "service": \.service,
        "attributes": \.attributes,
    ]
}

extension CompareView: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "chrome": \.chrome,
        "apiURL": \.apiURL,
        "a": \.a,
        "b": \.b,
        "isTypical": \.isTypical,
        "typicalNotice": \.typicalNotice,
        "windows": \.windows,
        "totalA": \.totalA,
        "totalB": \.totalB,
        "totalDifference": \.totalDifference,
        "matchedCount": \.matchedCount,
        "onlyACount": \.onlyACount,
        "onlyBCount": \.onlyBCount,
        "unalignedNotice": \.unalignedNotice,
        "rareNotice": \.rareNotice,
        "rowsHTML": \.rowsHTML,
    ]
}

extension CompareView.Side: MustacheFields {
    nonisolated(unsafe) static let mustacheFields: [String: PartialKeyPath<Self>] = [
        "label": \.label,
        "href": \.href,
        "traceID": \.traceID,
        "description": \.description,
        "durationText": \.durationText,
        "spanCount": \.spanCount,
        "criticalText": \.criticalText,
    ]
}

import ObservatoryStore

/// The trace answers written with `JSONText`: the same members, in the same (sorted)
/// order, as JSONEncoder would write them, in a fraction of the time.
extension TraceTimeline {
    func write(into json: inout JSONText) {
        json.beginObject()
        json.key("duration_ms")
        json.number(durationMs)
        json.key("end")
        json.timestamp(end)
        json.key("services")
        json.beginArray()
        for service in services { json.string(service) }
        json.endArray()
        json.key("span_count")
        json.number(spanCount)
        json.key("spans")
        json.beginArray()
        for span in spans { span.write(into: &json) }
        json.endArray()
        json.key("start")
        json.timestamp(start)
        json.key("status")
        json.string(status.rawValue)
        json.key("trace_id")
        json.string(traceID)
        json.endObject()
    }

    /// The trace page's data for the Gantt chart and the flame graph, for a
    /// `<script type="application/json">` element (JSONText escapes `<`, `>`, `&`): the
    /// trace's fields, with `span_count` the whole trace, and only the spans `drawing`
    /// draws, each with `row`, its place in the span table; then the summary rows
    /// (`groups`) and the limits the page applied, so the scripts declare none of their own.
    func scriptJSON(drawing: TraceDrawing, tablePage: Int) -> String {
        var json = JSONText(capacity: drawing.spans.count * 300 + drawing.groups.count * 200 + 512)
        json.beginObject()
        json.key("drawn_spans")
        json.number(drawing.spans.count)
        json.key("duration_ms")
        json.number(durationMs)
        json.key("end")
        json.timestamp(end)
        json.key("groups")
        json.beginArray()
        for group in drawing.groups { group.write(into: &json) }
        json.endArray()
        json.key("limits")
        json.beginObject()
        json.key("indent_levels")
        json.number(TracePageLimits.indentLevels)
        json.key("rows")
        json.number(TracePageLimits.drawnRows)
        json.key("siblings")
        json.number(TracePageLimits.siblingsDrawn)
        json.key("table_rows")
        json.number(TracePageLimits.tableRows)
        json.endObject()
        json.key("services")
        json.beginArray()
        for service in services { json.string(service) }
        json.endArray()
        json.key("span_count")
        json.number(spanCount)
        json.key("spans")
        json.beginArray()
        for row in drawing.spans { spans[row].write(into: &json, row: row) }
        json.endArray()
        json.key("start")
        json.timestamp(start)
        json.key("status")
        json.string(status.rawValue)
        json.key("table_page")
        json.number(tablePage)
        json.key("trace_id")
        json.string(traceID)
        json.endObject()
        return json.string
    }
}

extension TraceDrawing.Group {
    func write(into json: inout JSONText) {
        json.beginObject()
        json.key("before")
        json.number(before)
        json.key("children")
        json.number(children)
        json.key("critical")
        json.number(critical)
        json.key("depth")
        json.number(depth)
        json.key("end_offset_ms")
        json.number(endOffsetMs)
        json.key("errors")
        json.number(errors)
        json.key("first_row")
        json.number(firstRow)
        json.key("first_span_id")
        json.string(firstSpanID)
        if let parentSpanID {
            json.key("parent_span_id")
            json.string(parentSpanID)
        }
        json.key("reason")
        json.string(reason.rawValue)
        json.key("spans")
        json.number(spans)
        json.key("start_offset_ms")
        json.number(startOffsetMs)
        json.endObject()
    }
}

extension TraceTimeline.Span {
    /// `row`, on the page only: the span's place in tree order, which tells the script
    /// on which page of the span table it is listed.
    func write(into json: inout JSONText, row: Int? = nil) {
        json.beginObject()
        json.key("critical")
        json.bool(critical)
        json.key("depth")
        json.number(depth)
        json.key("duration_ms")
        json.number(durationMs)
        json.key("kind")
        json.string(kind.rawValue)
        json.key("name")
        json.string(name)
        json.key("operation")
        json.string(operation.rawValue)
        if let parentSpanID {
            json.key("parent_span_id")
            json.string(parentSpanID)
        }
        if let rank {
            json.key("rank")
            rank.write(into: &json)
        }
        if let row {
            json.key("row")
            json.number(row)
        }
        json.key("service")
        json.string(service)
        json.key("slow")
        json.bool(slow)
        json.key("span_id")
        json.string(spanID)
        json.key("start_offset_ms")
        json.number(startOffsetMs)
        json.key("status")
        json.string(status.rawValue)
        if let statusMessage {
            json.key("status_message")
            json.string(statusMessage)
        }
        if let target {
            json.key("target")
            json.string(target)
        }
        json.endObject()
    }
}

extension SpanRank {
    func write(into json: inout JSONText) {
        json.beginObject()
        json.key("band")
        json.string(band.rawValue)
        json.key("high")
        json.number(high)
        json.key("label")
        json.string(label)
        json.key("low")
        json.number(low)
        json.key("operation")
        json.string(operation)
        json.key("percentile")
        json.number(percentile)
        json.key("sample_count")
        json.number(sampleCount)
        json.key("server")
        json.string(server)
        json.key("side")
        json.string(side)
        json.key("since")
        json.timestamp(since)
        json.key("target")
        json.string(target)
        json.key("until")
        json.timestamp(until)
        json.endObject()
    }
}

extension TraceDetailPayload {
    /// The body of `GET /api/v1/traces/{id}`.
    var json: [UInt8] {
        var json = JSONText(capacity: spans.count * 1_200 + calls.count * 500 + 256)
        json.beginObject()
        json.key("calls")
        json.beginArray()
        for call in calls { call.write(into: &json) }
        json.endArray()
        json.key("spans")
        json.beginArray()
        for span in spans {
            json.beginObject()
            json.key("attributes")
            json.string(span.attributesJSON)
            json.key("end_time")
            json.timestamp(span.endTime)
            json.key("events")
            json.string(span.eventsJSON)
            json.key("resource_attributes")
            json.string(span.resourceAttributesJSON)
            if let scope = span.scopeName {
                json.key("scope_name")
                json.string(scope)
            }
            json.key("span_id")
            json.string(span.spanID)
            json.key("start_time")
            json.timestamp(span.startTime)
            json.endObject()
        }
        json.endArray()
        json.key("trace")
        trace.write(into: &json)
        json.endObject()
        return json.bytes
    }
}

import Foundation
import ObservatoryOTLP
import ObservatoryStore
import SwiftProtobuf

@testable import ObservatoryIngest

/// The straightforward decoder the service used before its hand-written wire reader:
/// SwiftProtobuf's generated messages, converted field by field. The tests hold the fast
/// decoder to its answers.
enum ReferenceProtobufDecoder {
    static func decode(_ body: Data) throws -> DecodedExport {
        convert(try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: body))
    }

    static func convert(_ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest) -> DecodedExport {
        var export = DecodedExport()
        for resourceSpans in request.resourceSpans {
            let resourceAttributes = attributes(resourceSpans.resource.attributes)
            for scopeSpans in resourceSpans.scopeSpans {
                let origin = export.origins.count
                export.origins.append(
                    SpanOrigin(
                        resourceAttributes: resourceAttributes,
                        scopeName: scopeSpans.scope.name.isEmpty ? nil : scopeSpans.scope.name))
                export.spans.reserveCapacity(export.spans.count + scopeSpans.spans.count)
                for span in scopeSpans.spans {
                    export.spans.append(convert(span, origin: origin))
                }
            }
        }
        return export
    }

    static func convert(_ span: Opentelemetry_Proto_Trace_V1_Span, origin: Int) -> SpanInput {
        let status: SpanInput.StatusCode
        switch span.status.code {
        case .ok: status = .ok
        case .error: status = .error
        default: status = .unset
        }
        return SpanInput(
            traceID: Array(span.traceID),
            spanID: Array(span.spanID),
            parentSpanID: Array(span.parentSpanID),
            name: span.name,
            kind: SpanKind(otlpValue: span.kind.rawValue),
            startTimeUnixNano: span.startTimeUnixNano,
            endTimeUnixNano: span.endTimeUnixNano,
            attributes: attributes(span.attributes),
            events: span.events.map { event in
                EventInput(name: event.name, timeUnixNano: event.timeUnixNano, attributes: attributes(event.attributes))
            },
            statusCode: status,
            statusMessage: span.status.message,
            origin: origin)
    }

    static func attributes(_ keyValues: [Opentelemetry_Proto_Common_V1_KeyValue], depth: Int = 0) -> [Attribute] {
        keyValues.map { Attribute(key: $0.key, value: value($0.value, depth: depth)) }
    }

    static func value(_ any: Opentelemetry_Proto_Common_V1_AnyValue, depth: Int) -> AttributeValue {
        switch any.value {
        case .stringValue(let text): return .string(text)
        case .boolValue(let flag): return .bool(flag)
        case .intValue(let number): return .int(number)
        case .doubleValue(let number): return .double(number)
        case .bytesValue(let data): return .bytes(Array(data))
        case .arrayValue(let array):
            guard depth < 16 else { return .string("[nested too deep]") }
            return .array(array.values.map { value($0, depth: depth + 1) })
        case .kvlistValue(let list):
            guard depth < 16 else { return .string("[nested too deep]") }
            return .map(attributes(list.values, depth: depth + 1))
        case nil: return .string("")
        }
    }
}

import Logging
import PostgresNIO
import Tracing

extension PostgresClient {
    /// Runs `query` and returns its rows, inside a DB client span of the current trace
    /// when self-tracing is on (`InstrumentationSystem` bootstrapped by `serve`): the
    /// OpenTelemetry database attributes, the row count, and `observatory.slow_query`
    /// past `SlowQuery.threshold`. The statement text is stored with its literals
    /// removed (the ingest pipeline strips `db.query.text`). Dashboard and maintenance
    /// reads use it; the span writer does not, so storing spans never creates spans.
    public func tracedQuery(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        // Named once it is known to record: with self-tracing off or the trace unsampled,
        // the statement is not scanned at all.
        let span = startSpan("query", ofKind: .client)
        defer { span.end() }
        if span.isRecording {
            let summary = SQLSummary(query.sql)
            span.operationName = summary.spanName
            span.attributes["db.system.name"] = "postgresql"
            span.attributes["db.operation.name"] = summary.operation
            span.attributes["db.collection.name"] = summary.collection
            span.attributes["db.stored_procedure.name"] = summary.function
            span.attributes["db.query.text"] = query.sql
        }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            var rows: [PostgresRow] = []
            for try await row in try await self.query(query, logger: logger) {
                rows.append(row)
            }
            if span.isRecording {
                span.attributes["db.response.returned_rows"] = rows.count
                if clock.now - start > SlowQuery.threshold {
                    span.attributes["observatory.slow_query"] = true
                }
            }
            return rows
        } catch {
            // What the server said (SQLSTATE and message): these spans are the service's
            // own, read by its operators, and the generic text of PSQLError says nothing.
            let failure = DatabaseError(error)
            span.recordError(failure)
            span.setStatus(Tracing.SpanStatus(code: .error, message: failure.description))
            throw error
        }
    }
}

extension Array where Element == PostgresRow {
    /// Every row decoded as `type`, like PostgresNIO's `decode` on a row sequence.
    func decode<each Column: PostgresDecodable>(_ type: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try map { try $0.decode(type) }
    }
}

/// What a span says about a statement: its operation, and the `observability.` (or
/// `observability_internal.`) object it works on, for a span name like
/// `SELECT observability.metrics_24h` or `SELECT observability.refresh_metrics()`. The
/// object is the first one named after FROM, JOIN, INTO or UPDATE: a table or view, or a
/// function when a `(` follows its name; a statement with none
/// (`SELECT observability_internal.claim_maintenance_job(…)`) is named by the first
/// function it calls. Functions in a SELECT list (`hex_trace_id`)
/// therefore do not hide the table read. The operation is the first keyword; for a
/// `WITH` query, the first SELECT, INSERT, UPDATE or DELETE after it. Guesses that need
/// no parser, right for every statement the service runs.
struct SQLSummary {
    var operation: String
    var collection: String?
    var function: String?

    var spanName: String {
        if let function { return "\(operation) \(function)()" }
        return collection.map { "\(operation) \($0)" } ?? operation
    }

    init(_ sql: String) {
        func isWordCharacter(_ character: Character) -> Bool {
            character.isLetter || character.isNumber || character == "_" || character == "."
        }
        var words: [(word: Substring, followedByParenthesis: Bool)] = []
        var rest = sql[...]
        while words.count < 400, let start = rest.firstIndex(where: isWordCharacter) {
            let end = rest[start...].firstIndex { !isWordCharacter($0) } ?? rest.endIndex
            let next = rest[end...].first { !$0.isWhitespace }
            words.append((rest[start..<end], next == "("))
            rest = rest[end...]
        }
        let first = words.first.map { $0.word.uppercased() } ?? "QUERY"
        if first == "WITH" {
            operation =
                words.lazy.map { $0.word.uppercased() }
                .first { ["SELECT", "INSERT", "UPDATE", "DELETE"].contains($0) } ?? "SELECT"
        } else {
            operation = first
        }
        func isObject(_ word: Substring) -> Bool {
            ["observability.", "observability_internal."].contains { word.hasPrefix($0) && word.count > $0.count }
        }
        let introducers: Set<String> = ["FROM", "JOIN", "INTO", "UPDATE"]
        let target = words.indices.first { index in
            index > 0 && isObject(words[index].word) && introducers.contains(words[index - 1].word.uppercased())
        }.map { words[$0] }
        if let target {
            if target.followedByParenthesis { function = String(target.word) } else { collection = String(target.word) }
        } else if let call = words.first(where: { isObject($0.word) && $0.followedByParenthesis }) {
            function = String(call.word)
        }
    }
}

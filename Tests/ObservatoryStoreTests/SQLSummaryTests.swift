import XCTest

@testable import ObservatoryStore

/// The names DB spans get from their statements.
final class SQLSummaryTests: XCTestCase {
    func testTableFunctionAndCTE() {
        let table = SQLSummary("SELECT level, operation FROM observability.metrics_24h\nWHERE level = $1")
        XCTAssertEqual(table.spanName, "SELECT observability.metrics_24h")
        XCTAssertEqual(table.collection, "observability.metrics_24h")
        XCTAssertNil(table.function)

        let function = SQLSummary("SELECT observability.claim_maintenance_job($1, make_interval(secs => $2), $3, now())")
        XCTAssertEqual(function.spanName, "SELECT observability.claim_maintenance_job()")
        XCTAssertEqual(function.function, "observability.claim_maintenance_job")
        XCTAssertNil(function.collection)

        let moved = SQLSummary("SELECT ran FROM observability_internal.rollup_metrics(coalesce($1::timestamptz, now()))")
        XCTAssertEqual(moved.spanName, "SELECT observability_internal.rollup_metrics()")
        XCTAssertEqual(moved.function, "observability_internal.rollup_metrics")

        let spaced = SQLSummary("SELECT * FROM observability.apply_retention ($1, $2)")
        XCTAssertEqual(spaced.function, "observability.apply_retention")

        let cte = SQLSummary(
            "WITH totals AS MATERIALIZED (SELECT bucket FROM observability.metrics_minute) SELECT g.bucket FROM totals")
        XCTAssertEqual(cte.operation, "SELECT")
        XCTAssertEqual(cte.collection, "observability.metrics_minute")

        XCTAssertEqual(SQLSummary("  delete from observability.spans where x = 1").spanName, "DELETE observability.spans")
        // A function in the SELECT list does not hide the table read.
        let listed = SQLSummary(
            "SELECT observability.hex_span_id(s.span_id), s.name FROM observability.spans s JOIN observability.traces t ON true")
        XCTAssertEqual(listed.spanName, "SELECT observability.spans")
        XCTAssertNil(listed.function)
        let fromFunction = SQLSummary("SELECT time_window FROM observability.refresh_metrics(coalesce($1::timestamptz, now()))")
        XCTAssertEqual(fromFunction.spanName, "SELECT observability.refresh_metrics()")
        XCTAssertEqual(SQLSummary("SELECT 1").spanName, "SELECT")
        XCTAssertEqual(SQLSummary("").spanName, "QUERY")
    }
}

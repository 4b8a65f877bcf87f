/// One kind of SQL statement a tool runs, with literals drawn per call so that
/// `db.query.text` gives literal stripping and query grouping real work.
struct QueryTemplate: Sendable {
    let operation: String
    let collection: String
    let medianMillis: Double
    let render: @Sendable (inout SplitMix64) -> String
}

/// The statements of the demo tool server's PostgreSQL database.
enum DemoQueries {
    static let statuses = ["open", "paid", "shipped", "cancelled", "refunded"]
    static let cities = ["Berlin", "Lisbon", "Osaka", "Toronto", "Nairobi", "Lyon", "Austin"]
    static let words = ["rate limits", "oauth scopes", "retry policy", "webhooks", "pagination", "billing"]
    static let symbols = ["AAPL", "MSFT", "NVDA", "SAP", "ASML", "TSLA"]
    static let emails = ["ana@example.com", "bo@example.org", "chen@example.net", "dara@example.com"]

    static let orders = QueryTemplate(operation: "SELECT", collection: "orders", medianMillis: 4) { rng in
        "SELECT * FROM orders WHERE customer_id = \(rng.int(in: 1000...99999)) AND status = '\(rng.pick(statuses))'"
    }
    static let revenue = QueryTemplate(operation: "SELECT", collection: "orders", medianMillis: 35) { rng in
        "SELECT date_trunc('day', created_at) AS day, sum(total_cents) FROM orders "
            + "WHERE created_at >= '2025-0\(rng.int(in: 1...9))-01' AND region = 'EU' GROUP BY 1 ORDER BY 1"
    }
    static let customers = QueryTemplate(operation: "SELECT", collection: "customers", medianMillis: 3) { rng in
        "SELECT id, name, email FROM customers WHERE id IN (\(rng.int(in: 1...500)), \(rng.int(in: 501...900)), \(rng.int(in: 901...1200)))"
    }
    static let shipOrder = QueryTemplate(operation: "UPDATE", collection: "orders", medianMillis: 6) { rng in
        "UPDATE orders SET status = 'shipped', shipped_at = now() WHERE id = \(rng.int(in: 100_000...999_999))"
    }
    static let searchDocuments = QueryTemplate(operation: "SELECT", collection: "documents", medianMillis: 12) { rng in
        "SELECT id, title FROM documents WHERE tsv @@ plainto_tsquery('english', '\(rng.pick(words))') LIMIT \(rng.pick([10, 20, 50]))"
    }
    static let documentBody = QueryTemplate(operation: "SELECT", collection: "documents", medianMillis: 2) { rng in
        "SELECT body FROM documents WHERE id = \(rng.int(in: 1...20000))"
    }
    static let auditLog = QueryTemplate(operation: "INSERT", collection: "audit_log", medianMillis: 2) { rng in
        "INSERT INTO audit_log (tool, user_id, created_at) VALUES ('\(rng.pick(["create_issue", "send_email", "run_sql"]))', \(rng.int(in: 1...4000)), '2025-06-\(rng.int(in: 10...28)) 09:\(rng.int(in: 10...59)):00')"
    }
    static let weatherCache = QueryTemplate(operation: "SELECT", collection: "weather_cache", medianMillis: 2) { rng in
        "SELECT payload FROM weather_cache WHERE city = '\(rng.pick(cities))' AND fetched_at > '2025-06-\(rng.int(in: 10...28)) 12:00:00'"
    }
    static let outbox = QueryTemplate(operation: "INSERT", collection: "outbox", medianMillis: 3) { rng in
        "INSERT INTO outbox (recipient, subject) VALUES ('\(rng.pick(emails))', 'Weekly report \(rng.int(in: 20...40))')"
    }
    static let urlCache = QueryTemplate(operation: "SELECT", collection: "url_cache", medianMillis: 2) { rng in
        "SELECT body, etag FROM url_cache WHERE url_hash = '\(rng.hex(16))'"
    }
    static let translationMemory = QueryTemplate(operation: "SELECT", collection: "translation_memory", medianMillis: 4) { rng in
        "SELECT target FROM translation_memory WHERE source_hash = '\(rng.hex(12))' AND lang = '\(rng.pick(["de", "fr", "ja", "pt"]))'"
    }
    static let calendarEvents = QueryTemplate(operation: "SELECT", collection: "events", medianMillis: 5) { rng in
        let day = rng.int(in: 1...20)
        return
            "SELECT * FROM events WHERE calendar_id = \(rng.int(in: 1...300)) AND starts_at BETWEEN '2025-07-\(twoDigits(day))' AND '2025-07-\(twoDigits(day + 7))'"
    }
    static let quotes = QueryTemplate(operation: "SELECT", collection: "quotes", medianMillis: 2) { rng in
        "SELECT price, currency FROM quotes WHERE symbol = '\(rng.pick(symbols))' ORDER BY quoted_at DESC LIMIT 1"
    }
    static let geocodeCache = QueryTemplate(operation: "SELECT", collection: "geocode_cache", medianMillis: 2) { rng in
        "SELECT lat, lon FROM geocode_cache WHERE query = '\(rng.int(in: 1...2000)) Main St, \(rng.pick(cities))'"
    }
    static let promptTemplate = QueryTemplate(operation: "SELECT", collection: "prompt_templates", medianMillis: 2) { rng in
        "SELECT body FROM prompt_templates WHERE name = $1 AND version = \(rng.int(in: 1...7))"
    }

    static func twoDigits(_ number: Int) -> String {
        number < 10 ? "0\(number)" : "\(number)"
    }

    /// The read a `postgres://db/<table>` resource performs.
    static func tableRead(_ table: String) -> QueryTemplate {
        QueryTemplate(operation: "SELECT", collection: table, medianMillis: 8) { rng in
            "SELECT * FROM \(table) WHERE updated_at > '2025-06-\(rng.int(in: 10...28))' LIMIT \(rng.pick([100, 500, 1000]))"
        }
    }
}

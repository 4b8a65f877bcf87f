import Logging
import PostgresNIO

/// A list page's filters under a name (`observability.saved_views`).
public struct SavedView: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// `metrics`, `tools`, `prompts`, `resources` or `traces`.
    public var page: String
    /// The page's query string, without the `?`.
    public var query: String

    public init(id: Int64, name: String, page: String, query: String) {
        self.id = id
        self.name = name
        self.page = page
        self.query = query
    }
}

/// Reads and writes the saved views. Reads go to the dashboards' client (a standby when
/// one is configured: a new view appears there once replayed); writes need the primary.
public struct SavedViewStore: Sendable {
    let reads: PostgresClient
    let writes: PostgresClient
    let logger: Logger

    /// The most views listed: the navigation is no place for a thousand.
    public static let listLimit = 200

    public init(reads: PostgresClient, writes: PostgresClient, logger: Logger) {
        self.reads = reads
        self.writes = writes
        self.logger = logger
    }

    /// Every view by name, at most ``listLimit``.
    public func list() async throws(DatabaseError) -> [SavedView] {
        try await views(
            """
            SELECT view_id, name, page, query FROM observability.saved_views
            ORDER BY lower(name), name LIMIT \(Self.listLimit)
            """)
    }

    public func find(_ id: Int64) async throws(DatabaseError) -> SavedView? {
        try await views("SELECT view_id, name, page, query FROM observability.saved_views WHERE view_id = \(id)").first
    }

    /// The views a query of `view_id, name, page, query` returns, from the read client.
    private func views(_ query: PostgresQuery) async throws(DatabaseError) -> [SavedView] {
        do {
            let rows = try await reads.tracedQuery(query, logger: logger)
            return try rows.decode((Int64, String, String, String).self).map {
                SavedView(id: $0, name: $1, page: $2, query: $3)
            }
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Stores a view; ``DatabaseError/duplicate(_:)`` when the name is taken.
    public func create(name: String, page: String, query: String) async throws(DatabaseError) -> SavedView {
        do {
            let rows = try await writes.tracedQuery(
                """
                INSERT INTO observability.saved_views (name, page, query) VALUES (\(name), \(page), \(query))
                RETURNING view_id
                """, logger: logger)
            guard let id = try rows.first?.decode(Int64.self) else { throw DatabaseError.unexpected("no id returned") }
            return SavedView(id: id, name: name, page: page, query: query)
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Deletes a view; whether there was one.
    public func delete(_ id: Int64) async throws(DatabaseError) -> Bool {
        do {
            let rows = try await writes.tracedQuery(
                "DELETE FROM observability.saved_views WHERE view_id = \(id) RETURNING view_id", logger: logger)
            return !rows.isEmpty
        } catch {
            throw DatabaseError(error)
        }
    }
}

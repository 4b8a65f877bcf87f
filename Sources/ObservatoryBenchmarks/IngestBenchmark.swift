import ArgumentParser
import Foundation
import Logging
import NIOCore
import ObservatoryConfiguration
import ObservatoryDemo
import ObservatoryIngest
import ObservatoryStartup
import ObservatoryStore
import PostgresNIO

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `observatory-bench ingest`: OTLP ingestion through a running server, over OTLP/HTTP
/// protobuf, OTLP/gRPC or both in turn, against raw `COPY` of the very same rows into a
/// scratch copy of the spans table.
struct IngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract:
            "Measure committed spans per second through POST /v1/traces and/or OTLP/gRPC Export against raw COPY of the same rows.",
        discussion: """
            Needs a running `observatory serve` on --url whose database is OBSERVABILITY_DATABASE_URL, \
            empty of spans (the benchmark counts what got committed). Payloads are generated and \
            encoded before the clock starts. With --protocol both, gRPC goes first, then the spans \
            are truncated and the same payloads go over HTTP, so each leg starts from an empty table. \
            The baseline decodes the same payloads through the same \
            pipeline offline, then times one COPY of all rows into bench_copy.spans: same columns, \
            same daily partitions, same indexes, each row's resource by id as the service stores \
            it (the resources themselves stored before the clock starts), without the traces fold \
            the service does as well.
            """
    )

    @Option(help: "Base URL of the server under test.")
    var url = "http://127.0.0.1:4318"

    @Option(help: "Spans to send, at least.")
    var spans = 1_000_000

    @Option(help: "Traces per export request (about 5 spans each).")
    var tracesPerRequest = 200

    @Option(help: "Which spans to send: mcp (rich MCP traces) or gateway (small gateway spans).")
    var shape = TrafficShape.mcp

    @Option(name: .customLong("protocol"), help: "How to send: grpc (OTLP/gRPC Export), http (POST /v1/traces) or both.")
    var transport = IngestProtocol.both

    @Option(help: "The server's OTLP/gRPC port, on --url's host.")
    var grpcPort = 4317

    @Option(help: "Requests in flight at once (gRPC: one connection each, like HTTP).")
    var concurrency = 8

    @Option(help: "PID of the server, to report its peak resident memory and CPU time.")
    var serverPid: Int?

    func run() async throws {
        let configuration = try Runtime.loadConfiguration()
        let databaseURL = try Runtime.requireDatabaseURL(configuration)
        let logger = {
            var logger = Runtime.logger(configuration)
            logger.logLevel = .warning
            return logger
        }()
        guard let base = URL(string: url) else { throw ValidationError("--url is not a URL") }

        // 1. Payloads, generated before timing.
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        let (bodies, total) = try shape.payloads(
            spans: spans, tracesPerRequest: tracesPerRequest, startUnixNano: now - 3_600_000_000_000)
        let megabytes = Double(bodies.reduce(0) { $0 + $1.count }) / 1_048_576
        print(
            "payload: \(total) \(shape.rawValue) spans in \(bodies.count) protobuf requests, \(String(format: "%.0f", megabytes)) MiB"
        )

        try await PostgresClient.withRunning(
            .observatory(url: databaseURL, maximumConnections: 2, applicationName: "observatory-bench"), logger: logger
        ) { client in
            let before = try await countSpans(client, table: "observability.spans")
            guard before == 0 else {
                throw ValidationError("observability.spans already holds \(before) spans; run against an empty database")
            }

            // 2. Through the service, each protocol from an empty spans table.
            let postmasterPid = try await backendPid(client).flatMap(ProcessCPU.postmaster(ofBackend:))
            var legs: [Leg] = []
            for (number, leg) in transport.legs.enumerated() {
                if number > 0 { try await emptySpans(client) }
                let cpuBefore = ProcessCPU.now(serverPid: serverPid, postmasterPid: postmasterPid)
                var sent = try await send(bodies, over: leg, base: base, token: configuration.ingestToken, client: client)
                sent.cpu = ProcessCPU.now(serverPid: serverPid, postmasterPid: postmasterPid) - cpuBefore
                legs.append(sent)
            }

            // 3. Baseline: the same rows through raw COPY.
            let pipeline = IngestPipeline(configuration: ObservatoryConfiguration())
            var records: [SpanRecord] = []
            records.reserveCapacity(total)
            let pipelineStarted = ContinuousClock.now
            for body in bodies {
                records += pipeline.process(try OTLPProtobufDecoder.decode(body)).records
            }
            let pipelineSeconds = (ContinuousClock.now - pipelineStarted).seconds
            try await prepareScratchTable(client)
            let resourceIDs = try await storeResources(of: records, client)
            let scopeIDs = try await storeScopes(of: records, client)
            let copyStarted = ContinuousClock.now
            try await client.withConnection { connection in
                // COPY names a bare table: resolve it in bench_copy on this connection only.
                _ = try await connection.query("SET search_path TO bench_copy", logger: logger)
                try await connection.copyFrom(
                    table: "spans", columns: SpanCopyEncoder.columnsAsStored, logger: logger
                ) { writer in
                    var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
                    for record in records {
                        let references = SpanCopyEncoder.References(
                            resource: resourceIDs[record.resourceAttributesJSON]!,
                            scope: record.scopeName.flatMap { scopeIDs[$0] })
                        SpanCopyEncoder.encode(record, references: references, into: &buffer)
                        if buffer.readableBytes >= 1 << 20 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                    }
                    try await writer.write(buffer)
                }
                _ = try await connection.query("RESET search_path", logger: logger)
            }
            let copySeconds = (ContinuousClock.now - copyStarted).seconds
            let copied = try await countSpans(client, table: "bench_copy.spans")

            let copyRate = Double(copied) / copySeconds
            print("")
            for leg in legs {
                let rate = Double(leg.committed) / leg.seconds
                print(
                    "\(leg.name) ingest: \(leg.committed) spans committed in \(format(leg.seconds)) s = \(format(rate, 0)) spans/s (\(format(100 * rate / copyRate, 1)) % of COPY)"
                )
                print(
                    "  requests: \(leg.accepted) accepted, \(leg.failed) failed, \(leg.retries) retried after \(leg.retriedAfter)"
                )
                print(
                    "  request latency: p50 \(format(percentile(leg.latencies, 0.5) * 1000, 1)) ms, p95 \(format(percentile(leg.latencies, 0.95) * 1000, 1)) ms, concurrency \(concurrency)"
                )
                if let server = leg.cpu.server, let postgres = leg.cpu.postgres {
                    let committed = Double(leg.committed)
                    print(
                        "  CPU: service \(format(server, 1)) s (\(format(committed / server, 0)) spans/s per core), PostgreSQL \(format(postgres, 1)) s (\(format(committed / postgres, 0)) spans/s per core)"
                    )
                }
                if leg.committed != total {
                    print("  WARNING: sent \(total) spans but \(leg.committed) were committed")
                }
            }
            print(
                "decode + pipeline alone:   \(format(Double(records.count) / pipelineSeconds, 0)) spans/s on one core (no HTTP, no database)"
            )
            print("raw COPY baseline:         \(copied) rows in \(format(copySeconds)) s = \(format(copyRate, 0)) rows/s")
            if let serverPid, let peak = peakResidentMemory(pid: serverPid) {
                print("server peak RSS (VmHWM):   \(peak / 1024) MiB")
            }
        }
    }

    /// What one protocol's leg measured.
    struct Leg {
        var name: String
        var committed: Int
        var seconds: Double
        var accepted: Int
        var failed: Int
        var retries: Int
        var retriedAfter: String
        var latencies: [Double]
        /// CPU the server and the PostgreSQL cluster used during the leg, when they run here.
        var cpu = ProcessCPU()
    }

    /// This connection's backend process id.
    private func backendPid(_ client: PostgresClient) async throws -> Int? {
        for try await pid in try await client.query("SELECT pg_backend_pid()").decode(Int32.self) { return Int(pid) }
        return nil
    }

    /// Sends every body over `leg` and counts what got committed.
    private func send(
        _ bodies: [Data], over kind: IngestProtocol, base: URL, token: String?, client: PostgresClient
    ) async throws -> Leg {
        let progress = ProgressCounter(total: bodies.count)
        let started = ContinuousClock.now
        let leg: Leg
        switch kind {
        case .http, .both:
            // A client that costs next to no CPU.
            guard let poster = RawHTTPClient(url: base.appendingPathComponent("v1/traces"), token: token)
            else { throw ValidationError("--url must be http://host:port") }
            let (results, retries) = poster.postAll(bodies, connections: concurrency) { progress.update($0) }
            let accepted = results.compactMap { $0 }.filter { $0.status == 200 }
            leg = Leg(
                name: "OTLP/HTTP protobuf", committed: 0, seconds: (ContinuousClock.now - started).seconds,
                accepted: accepted.count, failed: results.count - accepted.count, retries: retries,
                retriedAfter: "429/503", latencies: accepted.map(\.seconds).sorted())
        case .grpc:
            let exporter = GRPCExportClient(host: base.host ?? "127.0.0.1", port: grpcPort, token: token)
            let (results, retries) = try await exporter.exportAll(bodies, connections: concurrency) { progress.update($0) }
            let accepted = results.compactMap { $0 }.filter { $0.code == 0 }
            leg = Leg(
                name: "OTLP/gRPC", committed: 0, seconds: (ContinuousClock.now - started).seconds,
                accepted: accepted.count, failed: results.count - accepted.count, retries: retries,
                retriedAfter: "RESOURCE_EXHAUSTED/UNAVAILABLE", latencies: accepted.map(\.seconds).sorted())
        }
        progress.finish()
        var measured = leg
        measured.committed = try await countSpans(client, table: "observability.spans")
        return measured
    }

    /// Empties the store between legs, so the next starts where the first did.
    private func emptySpans(_ client: PostgresClient) async throws {
        _ = try await client.query("TRUNCATE observability.spans, observability.traces CASCADE")
        _ = try await client.query("CHECKPOINT")
    }

    private func countSpans(_ client: PostgresClient, table: String) async throws -> Int {
        let rows = try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM \(table)"))
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// Stores the rows' distinct resources as the service does (before the clock starts) and
    /// gives each resource's JSON its id, so that the baseline loads rows as the service
    /// stores them since migration 0018: a resource id each, not the resource's JSON.
    private func storeResources(of records: [SpanRecord], _ client: PostgresClient) async throws -> [String: Int32] {
        let texts = Array(Set(records.map(\.resourceAttributesJSON)))
        return try await store(
            texts, named: "resources", client,
            storing: "SELECT observability_internal.store_resources(\(texts)::jsonb[])",
            lookingUp: """
                SELECT x.key, r.resource_id FROM unnest(\(texts)::text[]) AS x(key)
                JOIN observability.resources r ON r.digest = observability_internal.resource_digest(x.key::jsonb)
                """)
    }

    /// Stores the rows' distinct scope names as the service does (0020), before the clock
    /// starts, and gives each name its id.
    private func storeScopes(of records: [SpanRecord], _ client: PostgresClient) async throws -> [String: Int32] {
        let names = Array(Set(records.compactMap(\.scopeName).filter { !$0.isEmpty }))
        return try await store(
            names, named: "scopes", client,
            storing: "SELECT observability_internal.store_scopes(\(names)::text[])",
            lookingUp: """
                SELECT x.key, s.scope_id FROM unnest(\(names)::text[]) AS x(key)
                JOIN observability.scopes s ON s.digest = observability_internal.scope_digest(x.key)
                """)
    }

    /// Runs `storing`, then `lookingUp` (rows of key and id), and checks that every one of
    /// `keys` came back with an id.
    private func store(
        _ keys: [String], named what: String, _ client: PostgresClient, storing: PostgresQuery, lookingUp: PostgresQuery
    ) async throws -> [String: Int32] {
        _ = try await client.query(storing)
        var ids: [String: Int32] = [:]
        for try await (key, id) in try await client.query(lookingUp).decode((String, Int32).self) { ids[key] = id }
        guard ids.count == keys.count else {
            throw ValidationError("found \(ids.count) of the \(keys.count) \(what) just stored")
        }
        return ids
    }

    /// bench_copy.spans: the columns, partitions and indexes of observability.spans, no trigger.
    private func prepareScratchTable(_ client: PostgresClient) async throws {
        let statements = [
            "DROP SCHEMA IF EXISTS bench_copy CASCADE",
            "CREATE SCHEMA bench_copy",
            "CREATE TABLE bench_copy.spans (LIKE observability.spans INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (start_time)",
            "CREATE TABLE bench_copy.spans_default PARTITION OF bench_copy.spans DEFAULT",
            """
            DO $$
            DECLARE v record;
            BEGIN
                FOR v IN
                    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
                    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = 'observability.spans'::regclass AND c.relname <> 'spans_default'
                LOOP
                    EXECUTE format('CREATE TABLE bench_copy.%I PARTITION OF bench_copy.spans %s', v.relname, v.bound);
                END LOOP;
            END $$
            """,
            "CREATE UNIQUE INDEX ON bench_copy.spans (trace_id, span_id, start_time)",
            "CREATE INDEX ON bench_copy.spans (operation, target, start_time)",
            "CREATE INDEX ON bench_copy.spans (start_time) WHERE status = 'error'",
            "CREATE INDEX ON bench_copy.spans USING brin (start_time)",
            "CHECKPOINT",
        ]
        for statement in statements {
            _ = try await client.query(PostgresQuery(unsafeSQL: statement))
        }
    }

    private func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
    }

    private func format(_ value: Double, _ digits: Int = 2) -> String {
        String(format: "%.\(digits)f", value)
    }

    private func peakResidentMemory(pid: Int) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Request progress on stderr, from the poster's threads.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var bar: ProgressBar

    init(total: Int) { bar = ProgressBar(total: total, label: "requests") }

    func update(_ done: Int) { lock.withLock { bar.update(done) } }

    func finish() { lock.withLock { bar.finish() } }
}

/// `--protocol`: which ingestion the benchmark measures.
enum IngestProtocol: String, ExpressibleByArgument, CaseIterable {
    case grpc, http, both

    /// The legs run, in order.
    var legs: [IngestProtocol] {
        switch self {
        case .both: [.grpc, .http]
        default: [self]
        }
    }
}

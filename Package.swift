// swift-tools-version:6.0
import PackageDescription

// One module per layer; see docs/architecture.md for the picture.
let package = Package(
    name: "mcp-observatory",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "observatory", targets: ["ObservatoryCLI"]),
        // Benchmarks, apart from what operators run (`make bench-*` use it).
        .executable(name: "observatory-bench", targets: ["ObservatoryBenchCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"6.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // OTLP/gRPC ingestion (TraceService/Export, port 4317).
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
    ],
    targets: [
        // Generated OTLP message types (scripts/generate-otlp.sh); nothing hand-written.
        .target(
            name: "ObservatoryOTLP",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // Settings from the environment, with their validation.
        .target(
            name: "ObservatoryConfiguration",
            dependencies: []
        ),
        // PostgreSQL access: the span record, the batch write, partition, retention and
        // maintenance calls. No business logic. Dashboard and maintenance queries run inside
        // DB client spans (swift-distributed-tracing); the span writer's never do.
        .target(
            name: "ObservatoryStore",
            dependencies: [
                "ObservatoryConfiguration",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Its ConnectionPoolError reaches callers unwrapped when the pool gives up
                // connecting (DatabaseError tells it apart).
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The migration runner: versioned SQL files, checksums, advisory lock. The files of
        // migrations/ are compiled in (Sources/ObservatoryMigrations/migrations links to it),
        // so a binary can never run another build's SQL.
        .target(
            name: "ObservatoryMigrations",
            dependencies: [
                "ObservatoryStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.embedInCode("migrations")]
        ),
        // Decoding, validation, redaction, classification, sampling and the batching span writer.
        .target(
            name: "ObservatoryIngest",
            dependencies: [
                "ObservatoryStore",
                "ObservatoryConfiguration",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Self-tracing: a swift-distributed-tracing Tracer whose finished spans go through the
        // ingest pipeline into the span writer, like any client's.
        .target(
            name: "ObservatoryTracing",
            dependencies: [
                "ObservatoryIngest",
                "ObservatoryStore",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The application: `buildApplication(configuration:)` wires pools, writer, tracer,
        // stores, routes, maintenance and startup checks for `serve` and the tests alike; and
        // the HTTP routes: ingestion endpoints, dashboards and their JSON twins, health.
        // Templates and the pages' own scripts are compiled into the binary (Resources/), so
        // a deployed binary cannot lack one.
        .target(
            name: "ObservatoryWeb",
            dependencies: [
                "ObservatoryMaintenance",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                "ObservatoryIngest",
                "ObservatoryStore",
                "ObservatoryMigrations",
                "ObservatoryConfiguration",
                .product(name: "Hummingbird", package: "hummingbird"),
                // Connection limits: the connection cap and the HTTP parts a channel handler sees.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "ObservatoryOTLP",
                "ObservatoryTracing",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // The OTLP/gRPC receiver: one hand-registered method, no generated stubs.
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            resources: [.embedInCode("Resources")]
        ),
        // Realistic MCP gateway traffic as OTLP protobuf, for `demo` and `bench`.
        .target(
            name: "ObservatoryDemo",
            dependencies: [
                "ObservatoryOTLP",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Scheduled database upkeep run inside `serve` (and by `maintenance run-once`):
        // metric refresh, partitions, retention, each elected among replicas.
        .target(
            name: "ObservatoryMaintenance",
            dependencies: [
                "ObservatoryStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Start-up chores the two executables share: configuration from the environment
        // (exit 78 on problems), the logger, the database reachability check.
        .target(
            name: "ObservatoryStartup",
            dependencies: [
                "ObservatoryConfiguration",
                "ObservatoryMigrations",
                "ObservatoryStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // `observatory-bench`'s commands and what only they need: the raw-socket HTTP client
        // and the COPY encoder of the baseline. Kept out of the operators' binary.
        .target(
            name: "ObservatoryBenchmarks",
            dependencies: [
                "ObservatoryStartup",
                "ObservatoryIngest",
                "ObservatoryStore",
                "ObservatoryConfiguration",
                "ObservatoryDemo",
                "ObservatoryOTLP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                // The OTLP/gRPC leg of `bench ingest`.
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        // The `observatory-bench` command.
        .executableTarget(
            name: "ObservatoryBenchCLI",
            dependencies: [
                "ObservatoryBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The `observatory` command and its subcommands.
        .executableTarget(
            name: "ObservatoryCLI",
            dependencies: [
                "ObservatoryStartup",
                "ObservatoryWeb",
                "ObservatoryIngest",
                "ObservatoryStore",
                "ObservatoryMigrations",
                "ObservatoryMaintenance",
                "ObservatoryConfiguration",
                "ObservatoryDemo",
                "ObservatoryOTLP",
                "ObservatoryTracing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ObservatoryIngestTests",
            dependencies: [
                "ObservatoryIngest", "ObservatoryOTLP", "ObservatoryDemo", "ObservatoryStore",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "ObservatoryWebTests",
            dependencies: [
                "ObservatoryWeb", "ObservatoryStore", "ObservatoryIngest", "ObservatoryOTLP",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "ObservatoryTracingTests",
            dependencies: [
                "ObservatoryTracing", "ObservatoryIngest", "ObservatoryStore", "ObservatoryWeb",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "ObservatoryDemoTests",
            dependencies: ["ObservatoryDemo", "ObservatoryOTLP"]
        ),
        .testTarget(
            name: "ObservatoryStoreTests",
            dependencies: [
                "ObservatoryStore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "ObservatoryBenchmarksTests",
            dependencies: ["ObservatoryBenchmarks", "ObservatoryStore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "ObservatoryMigrationsTests",
            dependencies: ["ObservatoryMigrations"]
        ),
        .testTarget(
            name: "ObservatoryConfigurationTests",
            dependencies: ["ObservatoryConfiguration"]
        ),
        // Against a real PostgreSQL server (POSTGRES_* or OBSERVABILITY_TEST_DATABASE_URL).
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ObservatoryWeb",
                "ObservatoryMaintenance",
                "ObservatoryIngest",
                "ObservatoryStore",
                "ObservatoryMigrations",
                "ObservatoryConfiguration",
                "ObservatoryDemo",
                "ObservatoryOTLP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

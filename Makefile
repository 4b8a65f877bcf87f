# MCP Observatory. `make help` lists the targets.
.DEFAULT_GOAL := help
.PHONY: help up down test unit fmt bench-ingest bench-query bench-overhead bench-assembly bench-bytes bench-compaction bench-readers build schema config-docs proto postgres clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

up: ## Install what is missing, start PostgreSQL (private cluster unless OBSERVABILITY_DATABASE_URL is set), migrate, serve, send demo traffic
	scripts/up.sh

down: ## Stop the service and the private PostgreSQL cluster started by `make up`
	scripts/down.sh

test: ## Run the whole test suite (Swift unit + PostgreSQL integration, live-service tests with real OTel clients)
	scripts/test.sh

unit: ## Unit tests only: no apt, PostgreSQL or Python; seconds after a build
	swift build --build-tests
	swift test --skip-build --disable-swift-testing --skip IntegrationTests

fmt: ## Format the Swift sources with swift-format (.swift-format); CI fails on a file left unformatted
	scripts/check-format.sh --write

bench-ingest: ## Benchmark OTLP/gRPC and OTLP/HTTP ingestion against raw COPY of the same rows, MCP and small gateway spans (SPANS=1000000 CONCURRENCY=8 SHAPES="mcp gateway" PROTOCOL=both)
	scripts/bench-ingest.sh

bench-query: ## Time every dashboard page and the metric refresh over 10M generated spans (SPANS TRACES DAYS REUSE=1)
	scripts/bench-query.sh

bench-assembly: ## Call assembly throughput (assemble_calls) in spans/s over generated MCP request shapes, against INSERT of the same spans (SPANS HOURS BATCH KEEP=1 CANDIDATE=file.sql)
	scripts/bench-assembly.sh

bench-overhead: ## Throughput of a dashboard route and of ingestion with self-tracing on vs off, alternating (ROUNDS REQUESTS SPANS)
	scripts/bench-overhead.sh

bench-bytes: ## Bytes per span before and after compacting closed days, on bench-query's data and on small gateway spans (SPANS TRACES DAYS GATEWAY_TRACES KEEP=1)
	scripts/bench-bytes.sh

bench-compaction: ## Rewrites of a closed day (compact_span_partition) beside steady one-span batches, against the batches alone (TRACES CLIENTS SECONDS_PER_LEG REWRITES UNTIL=0020 KEEP=1)
	scripts/bench-compaction.sh

bench-readers: ## The span readers 0022 made VOLATILE against the same functions STABLE, same run (SPANS TRACES DAYS ROUNDS KEEP=1)
	scripts/bench-readers.sh

build: ## Debug build of everything, tests included
	swift build --build-tests

schema: ## Regenerate sql/schema.sql from the migrations
	scripts/postgres.sh start
	swift build --product observatory
	scripts/check-schema.sh --write

config-docs: ## Regenerate .env.example and the settings tables of docs/configuration.md from the configuration table
	OBSERVATORY_WRITE_CONFIG_DOCS=1 swift test --filter ObservatoryConfigurationTests

proto: ## Regenerate the OTLP Swift code from proto/
	scripts/generate-otlp.sh

postgres: ## Start the private PostgreSQL cluster and print its URL
	scripts/postgres.sh start
	scripts/postgres.sh url

clean: ## Remove build output and the private cluster's data
	scripts/postgres.sh stop
	rm -rf .build var

import ArgumentParser

/// `observatory-bench`: the benchmarks, in their own executable so the operators' binary
/// carries only what operators run.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "observatory-bench",
        abstract: "Benchmarks that print their figures next to a baseline measured in the same run.",
        discussion:
            "`make bench-ingest`, `make bench-query` and `make bench-overhead` prepare a database and a release-built server and run these against them.",
        subcommands: [
            IngestBenchmark.self, PipelineBenchmark.self, RefreshBenchmark.self, QueryBenchmark.self, OverheadBenchmark.self,
        ]
    )

    public init() {}
}

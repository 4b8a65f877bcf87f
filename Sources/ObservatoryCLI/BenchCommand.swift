import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print their figures next to a baseline measured in the same run.",
        discussion: "`make bench-ingest` prepares a database and a release-built server and runs `bench ingest` against them.",
        subcommands: [IngestBenchmark.self, PipelineBenchmark.self]
    )
}

import ArgumentParser
import ObservatoryBenchmarks

/// The entry point of `observatory-bench`. (Not `main.swift`: an async command's `main()`
/// called from there compiles and then does nothing.)
@main
enum ObservatoryBench {
    static func main() async {
        await BenchCommand.main()
    }
}

/// Runs `body` now and then every `interval`, measured from start to start so the
/// cadence does not drift by the time each run takes, until the task is cancelled.
/// The one loop behind every maintenance service of `serve`.
func repeatEvery(_ interval: Duration, _ body: () async -> Void) async {
    let clock = ContinuousClock()
    var next = clock.now
    while !Task.isCancelled {
        await body()
        next = next.advanced(by: interval)
        if next < clock.now { next = clock.now }
        try? await Task.sleep(until: next, clock: clock)
    }
}

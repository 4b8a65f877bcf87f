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

/// How often a replica asks for a job that runs every `interval`: a quarter of it,
/// from 1 s to 1 min. Polling more often than the interval is what lets another replica
/// take over within a fraction of it, and keeps one replica's own runs on time.
func pollInterval(for interval: Duration) -> Duration {
    min(max(interval / 4, .seconds(1)), .seconds(60), interval)
}

/// The interval passed to the claim: a hair shorter than the configured one, so a poll
/// that lands a few milliseconds early (timer and clock jitter) still finds the job due
/// instead of waiting one more poll.
func claimInterval(for interval: Duration) -> Duration {
    interval - min(interval / 100, .milliseconds(500))
}

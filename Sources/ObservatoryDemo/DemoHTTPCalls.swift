/// An outbound HTTP call a tool or resource makes; the URL carries an
/// `api_key` query parameter so URL redaction has something to find.
struct HTTPCallTemplate: Sendable {
    let method: String
    let host: String
    let path: String
    let apiKey: String
    /// The call's typical duration as a share of the operation's median.
    let shareOfMedian: Double
    let query: @Sendable (inout SplitMix64) -> String

    func url(_ rng: inout SplitMix64) -> String {
        "https://\(host)\(path)?\(query(&rng))&api_key=\(apiKey)"
    }
}

/// The third-party APIs the demo tool server talks to.
enum DemoHTTPCalls {
    static let weather = HTTPCallTemplate(
        method: "GET", host: "api.openweathermap.org", path: "/data/2.5/weather",
        apiKey: "owm_3f9a1c7be2d84a06", shareOfMedian: 0.7
    ) { rng in "q=\(rng.pick(DemoQueries.cities))&units=metric" }

    static let githubIssue = HTTPCallTemplate(
        method: "POST", host: "api.github.com", path: "/repos/acme/widgets/issues",
        apiKey: "ghp_8bQ2xT7rLm4kZ1vN", shareOfMedian: 0.8
    ) { rng in "labels=\(rng.pick(["bug", "triage", "docs"]))" }

    static let email = HTTPCallTemplate(
        method: "POST", host: "api.sendgrid.com", path: "/v3/mail/send",
        apiKey: "SG.k2f8d0a1e9c4b7f3", shareOfMedian: 0.75
    ) { rng in "sandbox=\(rng.chance(0.1))" }

    static let scraper = HTTPCallTemplate(
        method: "GET", host: "scrape.example-proxy.io", path: "/v1/fetch",
        apiKey: "sp_live_5d1e0b9a7c3f2e84", shareOfMedian: 0.85
    ) { rng in
        let target = rng.pick([
            "https%3A%2F%2Fdocs.python.org%2F3%2F", "https%3A%2F%2Fnews.ycombinator.com%2F",
            "https%3A%2F%2Fexample.com%2Fpricing", "https%3A%2F%2Fstatus.example.org%2F",
        ])
        return "url=\(target)&render=\(rng.chance(0.3))"
    }

    static let stockQuote = HTTPCallTemplate(
        method: "GET", host: "api.marketdata.example.com", path: "/v1/quote",
        apiKey: "md_a91f33c0e7b2d6f5", shareOfMedian: 0.7
    ) { rng in "symbol=\(rng.pick(DemoQueries.symbols))" }

    static let geocode = HTTPCallTemplate(
        method: "GET", host: "maps.example.com", path: "/geocode/v1/json",
        apiKey: "AIzaSyD-demo-4c1b9e2f", shareOfMedian: 0.7
    ) { rng in "address=\(rng.int(in: 1...2000))+Main+St" }

    static let wiki = HTTPCallTemplate(
        method: "GET", host: "wiki.example.com", path: "/api/pages/onboarding",
        apiKey: "wk_0e4d7a2b9c1f5e38", shareOfMedian: 0.8
    ) { rng in "revision=\(rng.int(in: 100...400))" }

    static let githubReadme = HTTPCallTemplate(
        method: "GET", host: "api.github.com", path: "/repos/acme/widgets/readme",
        apiKey: "ghp_8bQ2xT7rLm4kZ1vN", shareOfMedian: 0.8
    ) { rng in "ref=\(rng.pick(["main", "release-2.3"]))" }
}

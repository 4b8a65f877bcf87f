import Foundation

extension ObservatoryConfiguration {
    /// A configuration that could not be used, with one message per problem.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    /// Reads every setting from `environment`, collecting all problems before failing.
    /// `requiringDatabase` makes a missing database URL one of those problems (commands
    /// that talk to PostgreSQL); otherwise it may be absent.
    public static func load(
        from environment: [String: String], requiringDatabase: Bool = false
    ) throws(Invalid) -> ObservatoryConfiguration {
        var reader = EnvironmentReader(environment: environment)
        var config = ObservatoryConfiguration()

        let urlVariable = reader.string("OBSERVABILITY_DATABASE_URL") != nil ? "OBSERVABILITY_DATABASE_URL" : "DATABASE_URL"
        if let raw = reader.string(urlVariable) {
            do {
                config.databaseURL = try DatabaseURL(parsing: raw)
            } catch {
                reader.problems.append("\(urlVariable) is not a usable PostgreSQL URL: \(error.reason)")
            }
        } else if requiringDatabase {
            reader.problems.append("OBSERVABILITY_DATABASE_URL (or DATABASE_URL) is not set")
        }
        config.host = reader.string("OBSERVABILITY_HOST") ?? config.host
        config.port = reader.integer("OBSERVABILITY_PORT", in: 1...65535) ?? config.port

        config.ingestToken = reader.string("OBSERVABILITY_INGEST_TOKEN")
        config.adminUser = reader.string("OBSERVABILITY_ADMIN_USER")
        config.adminPassword = reader.string("OBSERVABILITY_ADMIN_PASSWORD")
        if (config.adminUser == nil) != (config.adminPassword == nil) {
            reader.problems.append(
                "OBSERVABILITY_ADMIN_USER and OBSERVABILITY_ADMIN_PASSWORD must be set together (only one is set)"
            )
        }
        if let user = config.adminUser, user.contains(":") {
            reader.problems.append("OBSERVABILITY_ADMIN_USER must not contain ':' (HTTP Basic separates user and password with it)")
        }

        config.metricsPublic = reader.bool("OBSERVABILITY_METRICS_PUBLIC") ?? config.metricsPublic
        if let raw = reader.string("OBSERVABILITY_ALLOWED_HOSTS") {
            config.allowedHosts = reader.hostNames("OBSERVABILITY_ALLOWED_HOSTS", raw)
        }

        config.httpIdleTimeoutSeconds =
            reader.duration("OBSERVABILITY_HTTP_IDLE_TIMEOUT", in: 1...3_600) ?? config.httpIdleTimeoutSeconds
        config.httpBodyTimeoutSeconds =
            reader.duration("OBSERVABILITY_HTTP_BODY_TIMEOUT", in: 1...3_600) ?? config.httpBodyTimeoutSeconds
        config.httpMaxConnections =
            reader.integer("OBSERVABILITY_HTTP_MAX_CONNECTIONS", in: 1...1_000_000) ?? config.httpMaxConnections

        config.maxBodyBytes = reader.integer("OBSERVABILITY_MAX_BODY_BYTES", in: 1024...(1 << 30)) ?? config.maxBodyBytes
        config.sampleRate = reader.double("OBSERVABILITY_SAMPLE_RATE", in: 0...1) ?? config.sampleRate
        if let raw = environment["OBSERVABILITY_EXCLUDE_PATHS"] {
            let patterns = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for pattern in patterns {
                do {
                    // Compiled as the service uses it: anchored to match the whole path.
                    _ = try NSRegularExpression(pattern: "^(?:\(pattern))$")
                } catch {
                    reader.problems.append("OBSERVABILITY_EXCLUDE_PATHS: \"\(pattern)\" is not a valid regular expression")
                }
            }
            config.excludePaths = patterns
        }
        config.eventsEnabled = reader.bool("OBSERVABILITY_EVENTS_ENABLED") ?? config.eventsEnabled
        config.maxAttributeLength =
            reader.integer("OBSERVABILITY_MAX_ATTRIBUTE_LENGTH", in: 64...1_048_576) ?? config.maxAttributeLength

        config.writerQueueSpans =
            reader.integer("OBSERVABILITY_WRITER_QUEUE_SPANS", in: 1_000...10_000_000) ?? config.writerQueueSpans
        config.batchMaxSpans = reader.integer("OBSERVABILITY_BATCH_MAX_SPANS", in: 1...100_000) ?? config.batchMaxSpans
        config.batchMaxWaitMilliseconds =
            reader.integer("OBSERVABILITY_BATCH_MAX_WAIT_MS", in: 0...10_000) ?? config.batchMaxWaitMilliseconds
        config.writerConnections = reader.integer("OBSERVABILITY_WRITER_CONNECTIONS", in: 1...64) ?? config.writerConnections
        config.queryConnections = reader.integer("OBSERVABILITY_QUERY_CONNECTIONS", in: 1...200) ?? config.queryConnections
        if config.batchMaxSpans > config.writerQueueSpans {
            reader.problems.append(
                "OBSERVABILITY_BATCH_MAX_SPANS (\(config.batchMaxSpans)) must not exceed OBSERVABILITY_WRITER_QUEUE_SPANS (\(config.writerQueueSpans))"
            )
        }

        config.metricsRefreshSeconds =
            reader.integer("OBSERVABILITY_METRICS_REFRESH_SECONDS", in: 5...3_600) ?? config.metricsRefreshSeconds
        config.dashboardRefreshSeconds =
            reader.integer("OBSERVABILITY_DASHBOARD_REFRESH_SECONDS", in: 1...3_600) ?? config.dashboardRefreshSeconds
        config.chartJSPath = reader.string("OBSERVABILITY_CHARTJS_PATH") ?? config.chartJSPath

        config.enabled = reader.bool("OBSERVABILITY_ENABLED") ?? config.enabled
        config.traceHTTPRequests = reader.bool("OBSERVABILITY_TRACE_HTTP_REQUESTS") ?? config.traceHTTPRequests
        config.retentionDays = reader.integer("OBSERVABILITY_TRACE_RETENTION_DAYS", in: 1...365) ?? config.retentionDays
        config.maxTraces = reader.integer("OBSERVABILITY_MAX_TRACES", in: 1...1_000_000_000) ?? config.maxTraces
        config.metricsEnabled = reader.bool("OBSERVABILITY_METRICS_ENABLED") ?? config.metricsEnabled
        config.cleanupIntervalSeconds =
            reader.duration("OBSERVABILITY_CLEANUP_INTERVAL", in: 1...604_800) ?? config.cleanupIntervalSeconds

        if let level = reader.string("OBSERVABILITY_LOG_LEVEL") {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            if levels.contains(level.lowercased()) {
                config.logLevel = level.lowercased()
            } else {
                reader.problems.append(
                    "OBSERVABILITY_LOG_LEVEL must be one of \(levels.joined(separator: ", ")), got \"\(level)\""
                )
            }
        }
        config.migrationsDirectory = reader.string("OBSERVABILITY_MIGRATIONS_DIR")

        if !reader.problems.isEmpty {
            throw Invalid(problems: reader.problems)
        }
        return config
    }
}

/// Typed reads of environment variables that record a message for each bad value
/// instead of throwing, so one pass reports every problem.
struct EnvironmentReader {
    let environment: [String: String]
    var problems: [String] = []

    /// The trimmed value, or nil when unset or blank.
    func string(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        return value
    }

    mutating func integer(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let value = Int(raw.replacingOccurrences(of: "_", with: "")), range.contains(value) else {
            problems.append("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\"")
            return nil
        }
        return value
    }

    mutating func double(_ name: String, in range: ClosedRange<Double>) -> Double? {
        guard let raw = string(name) else { return nil }
        guard let value = Double(raw), value.isFinite, range.contains(value) else {
            problems.append("\(name) must be a number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\"")
            return nil
        }
        return value
    }

    /// Seconds from `90`, `90s`, `15m`, `1h` or `1d`.
    mutating func duration(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let raw = string(name) else { return nil }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        let unit = raw.last.flatMap { units[Character($0.lowercased())] }
        let digits = unit == nil ? Substring(raw) : raw.dropLast()
        let (seconds, overflow) = (Int(digits) ?? -1).multipliedReportingOverflow(by: unit ?? 1)
        guard !overflow, range.contains(seconds) else {
            problems.append(
                "\(name) must be a duration from \(Self.describe(seconds: range.lowerBound)) to \(Self.describe(seconds: range.upperBound)), such as 30s, 15m, 1h or 1d, got \"\(raw)\""
            )
            return nil
        }
        return seconds
    }

    /// A bound of a duration range in the largest unit that divides it: `1 s`, `1 h`, `7 days`.
    static func describe(seconds: Int) -> String {
        if seconds >= 86_400, seconds % 86_400 == 0 { return seconds == 86_400 ? "1 day" : "\(seconds / 86_400) days" }
        if seconds >= 3_600, seconds % 3_600 == 0 { return "\(seconds / 3_600) h" }
        if seconds >= 60, seconds % 60 == 0 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }

    /// Host names from a comma-separated list, lowercased, without a trailing dot; an
    /// unbracketed IPv6 address is bracketed as it appears in a `Host` header. One problem
    /// per entry that is not a bare host (a scheme, a path, a port).
    mutating func hostNames(_ name: String, _ raw: String) -> [String] {
        var hosts: [String] = []
        for entry in raw.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() })
        where !entry.isEmpty {
            var host = entry.hasSuffix(".") && entry.count > 1 ? String(entry.dropLast()) : entry
            let colons = host.filter { $0 == ":" }.count
            if colons > 1, !host.hasPrefix("[") { host = "[\(host)]" }
            let bracketed = host.hasPrefix("[") && host.hasSuffix("]")
            let allowed = host.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "-._[]:".unicodeScalars.contains($0)
            }
            guard allowed, host != ".", bracketed || colons == 0 else {
                problems.append(
                    "\(name): \"\(entry)\" is not a host name; give names or addresses such as observatory.example.com or 10.0.0.5, without scheme, port or path"
                )
                continue
            }
            hosts.append(host)
        }
        if hosts.isEmpty, problems.allSatisfy({ !$0.hasPrefix(name) }) {
            problems.append("\(name) lists no host; leave it unset to accept every host")
        }
        return hosts
    }

    mutating func bool(_ name: String) -> Bool? {
        guard let raw = string(name) else { return nil }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default:
            problems.append("\(name) must be true or false, got \"\(raw)\"")
            return nil
        }
    }
}

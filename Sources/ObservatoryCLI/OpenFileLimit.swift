import Logging
import ObservatoryConfiguration

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Fits `OBSERVABILITY_HTTP_MAX_CONNECTIONS` to the process's open-file limit: each
/// client connection is a file descriptor, and so is each database connection, so a cap
/// above the limit would let idle clients starve ingestion and `/healthz` of descriptors.
enum OpenFileLimit {
    /// Descriptors kept for everything but client connections beyond the database pools:
    /// the listening socket, standard streams, event loops, files read at runtime.
    static let reservedDescriptors = 64
    /// `RLIM_INFINITY`, which Swift does not import (it is `-1` cast to unsigned).
    static let unlimited = rlim_t.max
    #if canImport(Glibc)
        static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        static let resource = RLIMIT_NOFILE
    #endif

    /// The connection cap to use: the configured one when the soft limit allows it (raised
    /// towards the hard limit if needed, as Go and nginx do), else the most that fits,
    /// with a warning.
    static func connectionsThatFit(_ configuration: ObservatoryConfiguration, logger: Logger) -> Int {
        let wanted = configuration.httpMaxConnections
        // Query, writer, maintenance (3) and the startup client's one connection; with a read
        // replica, /readyz's own connections to the primary.
        let readiness = configuration.readDatabaseURL == nil ? 0 : ObservatoryConfiguration.readinessConnections
        let reserve =
            reservedDescriptors + configuration.queryConnections + configuration.writerConnections + 4 + readiness
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return wanted }
        let needed = rlim_t(wanted + reserve)
        if limit.rlim_cur != unlimited, limit.rlim_cur < needed {
            var raised = limit
            raised.rlim_cur = limit.rlim_max == unlimited ? needed : min(needed, limit.rlim_max)
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        guard limit.rlim_cur != unlimited, limit.rlim_cur < needed else { return wanted }
        let fitting = max(1, Int(limit.rlim_cur) - reserve)
        logger.warning(
            "\(ObservatoryConfiguration.key(for: \.httpMaxConnections))=\(wanted) does not fit the open-file limit of \(limit.rlim_cur) (ulimit -n) with \(reserve) descriptors kept for the database and files; accepting at most \(fitting) connections. Raise the limit to use the configured cap."
        )
        return fitting
    }
}
